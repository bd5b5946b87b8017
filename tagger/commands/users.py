"""``tagger users add|list|passwd|disable|enable|token``: accounts of the web app (``tagger serve``)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from tagger.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    from tagger.commands.serve import add_web_options

    p = sub.add_parser("users", help="web app accounts: add, list, passwd, disable, enable, token")
    ops = p.add_subparsers(dest="op", required=True, metavar="OP")
    add = ops.add_parser("add", help="create an account (asks for the password, or reads TAGGER_PASSWORD)")
    add.add_argument("username")
    add.add_argument("--admin", action="store_true", help="an administrator (sees every session and the audit log)")
    add.add_argument("--name", default="", help="display name, e.g. 'Dr. A. Jones'")
    ops.add_parser("list", help="list accounts")
    pw = ops.add_parser("passwd", help="set a new password (signs the user out everywhere)")
    pw.add_argument("username")
    for op, text in (("disable", "block sign-in and API tokens"), ("enable", "allow sign-in again")):
        ops.add_parser(op, help=text).add_argument("username")
    tok = ops.add_parser("token", help="create an API token for scripts (printed once)")
    tok.add_argument("username")
    tok.add_argument("--label", default="", help="what the token is for")
    for q in (add, pw, tok, *[ops.choices[o] for o in ("list", "disable", "enable")]):
        add_web_options(q)
    p.set_defaults(handler=run)


def _password(username: str) -> str:
    env = os.environ.get("TAGGER_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for the password: set TAGGER_PASSWORD")
    first = getpass.getpass(f"password for {username}: ")
    if first != getpass.getpass("again: "):
        raise InputError("the passwords differ; try again")
    return first


def run(args: argparse.Namespace) -> int:
    try:
        from tagger.web import auth
        from tagger.web.config import prepare_data_dir
        from tagger.web.db import make_engine, migrate, session_factory
    except ModuleNotFoundError as exc:
        raise InputError(f"tagger users needs the web extra ({exc.name} is missing): pip install -e '.[web]'") from None
    from tagger.commands.serve import settings_from_args

    settings = settings_from_args(args)
    prepare_data_dir(settings)
    engine = make_engine(settings.database_url)
    migrate(engine)
    with session_factory(engine)() as db:
        if args.op == "list":
            from sqlalchemy import select

            from tagger.web.models import User

            for u in db.scalars(select(User).order_by(User.id)):
                state = " (disabled)" if u.disabled else ""
                print(f"{u.username}\t{u.role}{state}\t{u.display_name}")
            return 0
        if args.op == "add":
            if auth.find_user(db, args.username) is not None:
                raise InputError(f"user {args.username!r} already exists; `tagger users passwd {args.username}` "
                                 "sets a new password")
            user = auth.add_user(db, args.username, _password(args.username), "admin" if args.admin else "clinician",
                                 args.name)
            db.commit()
            print(f"added {user.role} {user.username}", file=sys.stderr)
            return 0
        user = auth.find_user(db, args.username)
        if user is None:
            raise InputError(f"no user {args.username!r}; `tagger users list` shows the accounts")
        if args.op == "passwd":
            user.password_hash = auth.hash_password(_password(args.username))
        elif args.op in ("disable", "enable"):
            user.disabled = args.op == "disable"
        elif args.op == "token":
            _row, token = auth.new_token(db, user, args.label)
            db.commit()
            print(token)
            print(f"API token for {user.username}: send it as 'Authorization: Bearer <token>'; it is shown only once",
                  file=sys.stderr)
            return 0
        db.commit()
        print(f"{args.op}: {user.username}", file=sys.stderr)
    return 0
