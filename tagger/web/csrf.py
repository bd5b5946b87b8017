"""CSRF protection: a random token per browser session, required on every state-changing request
made with the session cookie (as the ``csrf_token`` form field or the ``X-CSRF-Token`` header).
Requests authenticated by an API token carry no cookie and need none."""

from __future__ import annotations

import secrets

from starlette.requests import Request

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def token(request: Request) -> str:
    """This browser session's token (created on first use)."""
    tok = request.session.get("csrf")
    if not tok:
        tok = request.session["csrf"] = secrets.token_urlsafe(32)
    return tok


def valid(request: Request, submitted: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and submitted and secrets.compare_digest(expected, submitted))
