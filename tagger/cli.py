"""The ``tagger`` command line: a thin shell over the library.

Each sub-command lives in ``tagger.commands.<name>`` and exposes ``register(subparsers)``;
the handler it sets returns an exit code. Errors the user can fix are raised as
:class:`tagger.errors.TaggerError` and printed as one line, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from tagger.errors import TaggerError

COMMANDS = ("tag", "run", "transcribe", "note", "batch", "eval", "train", "serve", "users")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tagger", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"tagger.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"tagger.commands.{name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except TaggerError as exc:
        print(f"tagger {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"tagger {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
