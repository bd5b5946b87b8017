"""Request dependencies: the database session and the signed-in user (API token or session cookie)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from tagger.web import auth, csrf
from tagger.web.config import WebSettings
from tagger.web.models import User


class LoginRequired(Exception):
    """A page needs a signed-in user: redirect to the sign-in page."""


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.db_factory() as db:
        yield db


def settings(request: Request) -> WebSettings:
    return request.app.state.settings


def session_version(user: User) -> str:
    """Stored in the cookie at sign-in: a password change ends the user's other browser sessions."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _cookie_user(request: Request, db: Session) -> User | None:
    uid = request.session.get("uid")
    if uid is None:
        return None
    user = db.get(User, uid)
    if user is None or user.disabled or request.session.get("ver") != session_version(user):
        request.session.clear()
        return None
    return user


def api_user(request: Request, db: Annotated[Session, Depends(get_db)]) -> User:
    """The user of an API call: ``Authorization: Bearer <token>``, else the session cookie plus CSRF header."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = auth.user_for_token(db, header[7:].strip())
        if user is None:
            raise HTTPException(401, "invalid or revoked API token", headers={"WWW-Authenticate": "Bearer"})
        db.commit()  # last_used_at
        return user
    user = _cookie_user(request, db)
    if user is None:
        raise HTTPException(401, "sign in, or send an API token as 'Authorization: Bearer <token>' "
                                 "(create one with `tagger users token USER`)", headers={"WWW-Authenticate": "Bearer"})
    if request.method not in csrf.SAFE_METHODS and not csrf.valid(request, request.headers.get(csrf.HEADER)):
        raise HTTPException(403, "missing or wrong X-CSRF-Token header (needed with the session cookie)")
    return user


def api_admin(user: Annotated[User, Depends(api_user)]) -> User:
    if not user.is_admin:
        raise HTTPException(403, "admins only")
    return user


def page_user(request: Request, db: Annotated[Session, Depends(get_db)]) -> User:
    user = _cookie_user(request, db)
    if user is None:
        raise LoginRequired
    return user


Db = Annotated[Session, Depends(get_db)]
Settings = Annotated[WebSettings, Depends(settings)]
ApiUser = Annotated[User, Depends(api_user)]
ApiAdmin = Annotated[User, Depends(api_admin)]
PageUser = Annotated[User, Depends(page_user)]
