"""``tagger serve``: the clinician web app (FastAPI + uvicorn) on the embedded defaults or PostgreSQL."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tagger.errors import InputError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_web_options(p: argparse.ArgumentParser) -> None:
    """Where the app keeps its data (shared by ``serve`` and ``users``)."""
    p.add_argument("--data-dir", type=Path, default=None,
                   help="uploads, results, the SQLite database and the cookie secret (default: ./tagger-data; "
                        "env TAGGER_WEB_DATA_DIR)")
    p.add_argument("--db-url", default=None,
                   help="database URL, e.g. postgresql://user:pass@host/tagger (default: SQLite in the data dir; "
                        "env TAGGER_WEB_DB_URL)")


def register(sub: argparse._SubParsersAction) -> None:
    from tagger.commands.tag import add_model_options

    p = sub.add_parser("serve", help="the clinician web app: upload sessions, review tagged transcripts, sign notes")
    add_web_options(p)
    p.add_argument("--host", default=None, help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default: 8000)")
    p.add_argument("--max-upload-mb", type=int, default=None, help="largest upload in MB (default: 500)")
    p.add_argument("--retain-audio", default=None, metavar="keep|delete|DAYS",
                   help="uploaded recordings: keep (default), delete once processed, or delete DAYS days after")
    p.add_argument("--workers", type=int, default=None, help="sessions processed at the same time (default: 1)")
    cookies = p.add_mutually_exclusive_group()
    cookies.add_argument("--secure-cookies", dest="secure_cookies", action="store_true", default=None,
                         help="send the sign-in cookie over HTTPS only (the default unless --host is a loopback "
                              "address)")
    cookies.add_argument("--insecure-cookies", dest="secure_cookies", action="store_false",
                         help="allow the sign-in cookie over plain HTTP (the default on 127.0.0.1/localhost)")
    add_model_options(p)
    p.set_defaults(handler=run)


def settings_from_args(args: argparse.Namespace, **extra: object):
    from tagger.web.config import WebSettings

    return WebSettings.from_env(data_dir=args.data_dir, db_url=args.db_url, **extra)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from tagger.web import create_app
    except ModuleNotFoundError as exc:
        raise InputError(f"tagger serve needs the web extra ({exc.name} is missing): pip install -e '.[web]'") from None
    from tagger.commands.tag import pipeline_config

    settings = settings_from_args(args, host=args.host, port=args.port, max_upload_mb=args.max_upload_mb,
                                  retain_audio=args.retain_audio, workers=args.workers,
                                  pipeline=pipeline_config(args))
    secure = args.secure_cookies if args.secure_cookies is not None else settings.host not in LOOPBACK
    from dataclasses import replace

    settings = replace(settings, secure_cookies=secure)
    app = create_app(settings)
    where = settings.db_url.split("://")[0] if settings.db_url else f"SQLite in {settings.data_dir}"
    print(f"tagger serve: http://{settings.host}:{settings.port}/ (data: {settings.data_dir}, database: {where}); "
          "create an account with `tagger users add NAME`", file=sys.stderr)
    if not secure:
        print("tagger serve: sign-in cookies allowed over plain HTTP; use HTTPS (--secure-cookies) beyond this "
              "machine", file=sys.stderr)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", proxy_headers=False)
    return 0
