"""The clinician web app (``tagger serve``): a thin shell over the same library calls as the CLI.

``create_app(WebSettings(...))`` returns the FastAPI application: server-rendered pages, a JSON API
(OpenAPI at ``/docs``), a persistent job queue with in-process workers, SQLite by default or
PostgreSQL, accounts with Argon2 password hashes, CSRF-protected forms, API tokens and an audit log.
Needs the ``web`` extra: ``pip install 'tagger[web]'``.
"""

from tagger.web.config import WebSettings

__all__ = ["WebSettings", "create_app"]


def create_app(settings: WebSettings, *, start_worker: bool = True):  # -> fastapi.FastAPI
    from tagger.web.app import create_app as _create

    return _create(settings, start_worker=start_worker)
