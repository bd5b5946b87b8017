"""Batch inputs -> work items: a directory, a glob, or a manifest (CSV/JSONL of paths and metadata).

A :class:`WorkItem` is one input file (a transcript, possibly holding several sessions, or a
recording). Items keep the input's order (sorted paths for a directory or glob, row order for a
manifest); each carries the sha256 of its content, the name its outputs take, and the options
and metadata its manifest row gave.

Manifest columns: ``path`` (required; relative to the manifest's folder), optional
``session_id`` (rename a single-session input), ``therapist`` (speaker names that are the
therapist, ``;``-separated), ``format`` (transcript format), ``therapist_speaker`` (audio: the
diarized label of the therapist); every other column is metadata carried into the combined
dataset and the summary table.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tagger.errors import InputError
from tagger.io.readers import FORMATS

TRANSCRIPT_EXTS = frozenset({".csv", ".tsv", ".txt", ".json", ".jsonl", ".vtt", ".srt"})
AUDIO_EXTS = frozenset({".wav", ".mp3", ".m4a", ".flac", ".ogg", ".webm", ".mp4"})
#: Manifest columns with a meaning; the others are metadata.
OPTION_COLUMNS = ("path", "session_id", "therapist", "format", "therapist_speaker")
_GLOB_CHARS = re.compile(r"[*?\[]")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.=+-]+")


@dataclass(frozen=True)
class WorkItem:
    """One input file of a batch.

    ``name`` is unique in the batch and names the outputs (``sessions/<name>.jsonl``); ``source``
    is the path as the user gave it (relative to the input folder or manifest); ``sha256`` is
    ``None`` when the file cannot be read (``problem`` says why).
    """

    index: int
    path: Path
    source: str
    name: str
    kind: str  # "transcript" or "audio"
    sha256: str | None
    session_id: str | None = None
    therapist: tuple[str, ...] = ()
    input_format: str | None = None
    therapist_speaker: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    problem: str | None = None

    def options(self) -> dict[str, object]:
        """The per-item options that change the output (part of the item's fingerprint)."""
        return {"session_id": self.session_id, "therapist": list(self.therapist), "format": self.input_format,
                "therapist_speaker": self.therapist_speaker}


@dataclass(frozen=True)
class Manifest:
    """The work items of a batch, in order, and what discovery left out."""

    items: tuple[WorkItem, ...]
    ignored: tuple[str, ...] = ()  # files in a folder or glob with other extensions
    kind: str = "directory"  # "directory", "glob", "manifest" or "file"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def kind_of(path: Path) -> str | None:
    ext = path.suffix.lower()
    return "audio" if ext in AUDIO_EXTS else "transcript" if ext in TRANSCRIPT_EXTS else None


def discover(spec: str | Path, *, exclude: Path | None = None) -> Manifest:
    """Work items from a folder (recursive), a glob pattern, a manifest or a single input file.

    ``exclude`` (the output folder) is skipped when it lies inside an input folder. Raises
    :class:`InputError` when nothing matches or a manifest is malformed.
    """
    text = str(spec)
    p = Path(text).expanduser()
    if p.is_dir():
        files = sorted((f for f in _walk(p, exclude)), key=lambda f: f.relative_to(p).as_posix())
        return _from_files(files, p, "directory", text)
    if p.is_file():
        rows = _manifest_rows(p)
        if rows is not None:
            return _from_manifest(p, rows)
        if kind_of(p) is None:
            raise InputError(f"{p}: not a transcript ({', '.join(sorted(TRANSCRIPT_EXTS))}), a recording "
                             f"({', '.join(sorted(AUDIO_EXTS))}) or a manifest (CSV/JSONL with a 'path' column)")
        return _from_files([p], p.parent, "file", text)
    if _GLOB_CHARS.search(text):
        matches = [Path(m) for m in glob.glob(os.path.expanduser(text), recursive=True)]
        files = sorted((m for m in matches if m.is_file() and not _hidden(m) and not _inside(m, exclude)),
                       key=lambda m: m.as_posix())
        root = Path(os.path.commonpath([m.parent.resolve() for m in files])) if files else Path(".")
        return _from_files(files, root, "glob", text)
    raise InputError(f"{text}: no such file or folder, and not a glob pattern")


def _hidden(path: Path) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in path.parts)


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _walk(root: Path, exclude: Path | None) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        dirnames[:] = [n for n in dirnames if not n.startswith(".") and not _inside(d / n, exclude)]
        for n in filenames:
            if not n.startswith("."):
                yield d / n


def _from_files(files: list[Path], root: Path, kind: str, spec: str) -> Manifest:
    keep = [f for f in files if kind_of(f) is not None]
    ignored = tuple(str(f) for f in files if kind_of(f) is None)
    if not keep:
        extra = f" ({len(ignored)} file(s) with other extensions)" if ignored else ""
        raise InputError(f"{spec}: no transcripts or recordings found{extra}")
    rels = [_relative(f, root) for f in keep]
    names = unique_names(rels)
    items = tuple(_item(i, f, rel, name) for i, (f, rel, name) in enumerate(zip(keep, rels, names, strict=True)))
    return Manifest(items, ignored, kind)


def _relative(f: Path, root: Path) -> str:
    try:
        return f.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return f.as_posix()


def _item(index: int, path: Path, source: str, name: str, **opts: object) -> WorkItem:
    kind = kind_of(path) or "transcript"
    problem = None
    digest = None
    if not path.is_file():
        problem = f"{source}: no such file"
    else:
        try:
            digest = file_sha256(path)
        except OSError as exc:
            problem = f"{source}: cannot read ({exc.strerror or exc})"
    return WorkItem(index, path, source, name, kind, digest, problem=problem, **opts)  # type: ignore[arg-type]


def unique_names(sources: list[str]) -> list[str]:
    """Output names from relative paths: ``clinic_a/s001.csv`` -> ``clinic_a/s001``; inputs that
    share a name without extension keep it (``a.csv`` -> ``a_csv``); a repeated path gets ``~2``."""
    stems = [_safe_path(s.rsplit(".", 1)[0] if "." in Path(s).name else s) for s in sources]
    n = Counter(stems)
    names = [_safe_path(s.replace(".", "_")) if n[stem] > 1 else stem for s, stem in zip(sources, stems, strict=True)]
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name}~{seen[name]}")
    return out


def _safe_path(rel: str) -> str:
    parts = [_UNSAFE.sub("_", p).strip("_") or "_" for p in rel.split("/") if p not in ("", ".", "..")]
    return "/".join(parts) or "_"


def safe_name(text: str) -> str:
    """A file-name-safe version of a session id."""
    return _UNSAFE.sub("_", text).strip("_") or "_"


# --------------------------------------------------------------------------- manifests


def _manifest_rows(path: Path) -> list[tuple[int, dict[str, str]]] | None:
    """Rows of a manifest, or ``None`` when the file is not one (a transcript)."""
    ext = path.suffix.lower()
    if ext not in (".csv", ".tsv", ".jsonl"):
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    if ext == ".jsonl":
        lines = [(i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
        if not lines:
            return None
        try:
            first = json.loads(lines[0][1])
        except json.JSONDecodeError:
            return None
        if not isinstance(first, dict) or "path" not in first or "text" in first:
            return None
        rows = []
        for lineno, line in lines:
            try:
                d = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {lineno}: invalid JSON in manifest ({exc.msg})") from None
            if not isinstance(d, dict):
                raise InputError(f"{path}: line {lineno}: expected an object with a 'path'")
            rows.append((lineno, {str(k): "" if v is None else _cell(v) for k, v in d.items()}))
        return rows
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect="excel-tab" if ext == ".tsv" else "excel")
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "path" not in header or "text" in header or "utterance_text" in header:
        return None
    reader.fieldnames = header
    rows = []
    for row in reader:
        if None in row:
            raise InputError(f"{path}: line {reader.line_num}: more cells than the {len(header)} header columns")
        rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    return rows


def _cell(v: object) -> str:
    if isinstance(v, list):
        return ";".join(str(x) for x in v)
    return str(v)


def _from_manifest(path: Path, rows: list[tuple[int, dict[str, str]]]) -> Manifest:
    if not rows:
        raise InputError(f"{path}: the manifest lists no inputs")
    root = path.parent
    entries = []
    for lineno, row in rows:
        where = f"{path}: line {lineno}"
        rel = row.get("path", "").strip()
        if not rel:
            raise InputError(f"{where}: empty 'path'")
        fmt = row.get("format") or None
        if fmt is not None and fmt not in FORMATS:
            raise InputError(f"{where}: unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        f = Path(rel).expanduser()
        f = f if f.is_absolute() else root / f
        if kind_of(f) is None and fmt is None:
            raise InputError(f"{where}: {rel}: not a transcript or recording extension; add a 'format' column")
        therapist = tuple(t.strip() for t in (row.get("therapist") or "").split(";") if t.strip())
        meta = tuple(sorted((k, v) for k, v in row.items() if k not in OPTION_COLUMNS and v != ""))
        entries.append((f, rel, dict(session_id=row.get("session_id") or None, therapist=therapist, input_format=fmt,
                                     therapist_speaker=row.get("therapist_speaker") or None, metadata=meta)))
    names = unique_names([Path(rel).as_posix().lstrip("/") for _, rel, _ in entries])
    items = tuple(_item(i, f, rel, name, **opts)
                  for i, ((f, rel, opts), name) in enumerate(zip(entries, names, strict=True)))
    return Manifest(items, (), "manifest")
