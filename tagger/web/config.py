"""Settings of the web app: one frozen dataclass, built from ``tagger serve`` options or the environment.

The secret that signs session cookies is generated on first start and kept in the data
directory (mode 0600); it is never logged or shown.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from tagger.errors import InputError
from tagger.pipeline import PipelineConfig

#: Audio retention: keep uploaded recordings, delete them once processed, or delete them N days after processing.
RETAIN_CHOICES = ("keep", "delete")
SECRET_FILE = "secret.key"


@dataclass(frozen=True)
class WebSettings:
    """Everything ``create_app`` needs. ``db_url`` None means SQLite in ``data_dir``."""

    data_dir: Path = Path("tagger-data")
    db_url: str | None = None
    max_upload_mb: int = 500
    retain_audio: str = "keep"  # "keep", "delete" (after processing) or a number of days
    workers: int = 1  # jobs processed at the same time
    host: str = "127.0.0.1"
    port: int = 8000
    secure_cookies: bool = True  # False only for plain-http development on localhost
    job_lease_s: float = 60.0  # a running job whose server stops heartbeating is requeued after this
    max_attempts: int = 3
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)

    def __post_init__(self) -> None:
        if self.max_upload_mb < 1:
            raise InputError(f"--max-upload-mb must be at least 1, got {self.max_upload_mb}")
        if self.workers < 1:
            raise InputError(f"--workers must be at least 1, got {self.workers}")
        if self.retain_audio not in RETAIN_CHOICES and not (self.retain_audio.isdigit() and int(self.retain_audio) > 0):
            raise InputError(f"--retain-audio {self.retain_audio!r}: use keep, delete or a number of days (e.g. 30)")
        if self.db_url is not None and not self.db_url.startswith(("sqlite", "postgresql")):
            raise InputError(f"--db-url {self.db_url.split(':')[0]!r}: use sqlite:///PATH or postgresql://USER@HOST/DB")

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.data_dir / 'tagger.db').resolve()}"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def retain_days(self) -> int | None:
        """Days to keep processed audio, or None (``keep``: forever; ``delete``: 0)."""
        if self.retain_audio == "keep":
            return None
        return 0 if self.retain_audio == "delete" else int(self.retain_audio)

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "sessions"

    @classmethod
    def from_env(cls, **overrides: object) -> WebSettings:
        """Defaults, then ``TAGGER_WEB_*`` environment variables, then ``overrides`` (None values ignored)."""
        env = os.environ
        values: dict[str, object] = {}
        for name, conv in (("data_dir", Path), ("db_url", str), ("max_upload_mb", int), ("retain_audio", str),
                           ("workers", int), ("host", str), ("port", int), ("job_lease_s", float)):
            raw = env.get(f"TAGGER_WEB_{name.upper()}")
            if raw:
                try:
                    values[name] = conv(raw)
                except ValueError:
                    raise InputError(f"TAGGER_WEB_{name.upper()}={raw!r} is not a valid {conv.__name__}") from None
        if env.get("TAGGER_WEB_INSECURE_COOKIES") == "1":
            values["secure_cookies"] = False
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)  # type: ignore[arg-type]


def prepare_data_dir(settings: WebSettings) -> None:
    """Create the data directory readable by this user only (it holds recordings, notes and the secret)."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.uploads_dir.mkdir(mode=0o700, exist_ok=True)
    db_file = settings.data_dir / "tagger.db"
    if settings.db_url is None:
        db_file.touch(mode=0o600, exist_ok=True)


def secret_key(data_dir: Path) -> str:
    """The cookie-signing secret: read from ``data_dir/secret.key``, created (0600) on first start."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < 32:
            raise InputError(f"{path} holds no usable secret; delete it to generate a new one (signs everyone "
                             "out)") from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
