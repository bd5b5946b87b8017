"""Writers. Files are written atomically (temporary file + rename): a crash leaves no half file."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tagger.types import TaggedUtterance


@contextmanager
def atomic_writer(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Open ``path`` for writing; ``-`` is stdout. The file appears only if the block succeeds."""
    if str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".part")
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def jsonl_lines(tagged: Iterable[TaggedUtterance]) -> Iterator[str]:
    for t in tagged:
        yield json.dumps(t.to_record(), ensure_ascii=False) + "\n"


def write_jsonl(tagged: Iterable[TaggedUtterance], path: str | Path) -> None:
    with atomic_writer(path) as fh:
        fh.writelines(jsonl_lines(tagged))


def read_tagged_jsonl(path: str | Path) -> list[TaggedUtterance]:
    from tagger.errors import InputError

    out = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(TaggedUtterance.from_record(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: line {lineno}: not a tagged-utterance record ({exc})") from None
    return out
