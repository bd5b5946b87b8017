"""The audit log: who viewed, exported, edited, signed or deleted which session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tagger.web.models import AuditEvent, User

ACTIONS = ("login", "login_failed", "login_throttled", "logout", "upload", "view", "export", "edit", "sign", "delete",
           "retry", "token_created", "token_revoked", "processed", "failed", "audio_deleted")


def record(db: Session, user: User | None, action: str, session_id: str | None = None, detail: str = "") -> None:
    """Add one audit row. ``detail`` must hold no secrets and no patient content (it is shown to admins)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    db.add(AuditEvent(user_id=user.id if user else None, username=user.username if user else "",
                      action=action, session_id=session_id, detail=detail[:400]))


def events(db: Session, session_id: str | None = None, limit: int = 200) -> list[AuditEvent]:
    q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if session_id is not None:
        q = q.where(AuditEvent.session_id == session_id)
    return list(db.scalars(q))
