"""User accounts, password hashing (Argon2id) and API tokens (stored as SHA-256)."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tagger.errors import InputError
from tagger.web.models import ROLES, ApiToken, User, utcnow

MIN_PASSWORD = 10
TOKEN_PREFIX = "tgr_"
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing of "no such user" and "wrong password" alike.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(db: Session, username: str, password: str, role: str = "clinician", display_name: str = "") -> User:
    if not _USERNAME.match(username):
        raise InputError(f"user name {username!r}: use 2-64 letters, digits, '.', '_' or '-', starting with a letter "
                         "or digit")
    if role not in ROLES:
        raise InputError(f"role {role!r}: choose one of {', '.join(ROLES)}")
    if find_user(db, username) is not None:
        raise InputError(f"user {username!r} already exists; use `tagger users passwd {username}` to reset it")
    user = User(username=username, password_hash=hash_password(password), role=role, display_name=display_name)
    db.add(user)
    db.flush()
    return user


def find_user(db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The enabled user with this name and password, else None (same work either way)."""
    user = find_user(db, username)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password) or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(db: Session, user: User, label: str = "") -> tuple[ApiToken, str]:
    """A new API token for ``user``: the row and the token itself (shown once, never stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_digest(token), label=label[:100])
    db.add(row)
    db.flush()
    return row, token


def user_for_token(db: Session, token: str) -> User | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None:
        return None
    user = db.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    row.last_used_at = utcnow()
    return user
