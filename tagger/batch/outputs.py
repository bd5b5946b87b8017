"""Batch outputs: per-session files as inputs finish, then the combined tables built from them.

Per input, as soon as it is tagged::

    sessions/<name>.jsonl            tagged utterances (the `tagger tag` record); an input holding
                                     several sessions gives sessions/<name>__<session_id>.jsonl each
    notes/<name>[__<sid>].<fmt>.md   draft note (--note soap|dap|birp)

At the end of every run, rebuilt from the per-session files of the inputs that are done (so they
are the same after a resume as after an uninterrupted run)::

    dataset.jsonl     every utterance record, inputs in manifest order, plus ``source`` and ``metadata``
    dataset.parquet   the same rows; ``scores`` flattened to ``score_<code>``, metadata to ``meta_<key>``
    summary.csv       one row per session: code counts, MITI summary scores, risk flags, metadata
    errors.csv        one row per failed input: source, stage, error type, message

Every file is written atomically.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tagger.batch.manifest import WorkItem, safe_name
from tagger.batch.state import Marker
from tagger.io.writers import atomic_writer
from tagger.taxonomy import CLIENT_TALK_CODES, OTHER, RISK_FLAG, load_taxonomy
from tagger.types import TaggedUtterance

SESSIONS_DIR = "sessions"
NOTES_DIR = "notes"
ERROR_COLUMNS = ("source", "name", "stage", "type", "message")
MITI_COLUMNS = ("r_q", "pct_cr", "mi_adherent", "mi_non_adherent", "pct_change_talk")


def record_line(rec: dict[str, Any]) -> str:
    """One JSONL line, exactly as ``tagger tag`` writes it."""
    return json.dumps(rec, ensure_ascii=False) + "\n"


def session_stem(item: WorkItem, session_id: str, n_sessions: int) -> str:
    return item.name if n_sessions == 1 else f"{item.name}__{safe_name(session_id)}"


def write_item_outputs(outdir: Path, item: WorkItem, sessions: Sequence[dict[str, Any]], *,
                       note_format: str | None, model_name: str | None) -> list[dict[str, Any]]:
    """Write one input's per-session JSONL (and notes); returns the sessions' entries for its marker."""
    entries = []
    for s in sessions:
        stem = session_stem(item, s["session_id"], len(sessions))
        out = f"{SESSIONS_DIR}/{stem}.jsonl"
        with atomic_writer(outdir / out) as fh:
            fh.writelines(record_line(r) for r in s["records"])
        entry: dict[str, Any] = {"session_id": s["session_id"], "output": out, "utterances": len(s["records"])}
        if note_format:
            entry["note"] = write_note(outdir, stem, s["records"], note_format, item.source, model_name)
        entries.append(entry)
    return entries


def write_note(outdir: Path, stem: str, records: Sequence[dict[str, Any]], fmt: str, source: str,
               model_name: str | None) -> str:
    from tagger.note import build_note
    from tagger.note import write_note as write_note_file

    rel = f"{NOTES_DIR}/{stem}.{fmt}.md"
    note = build_note([TaggedUtterance.from_record(r) for r in records], fmt, source=source, model=model_name)
    write_note_file(note, outdir / rel)
    return rel


def read_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --------------------------------------------------------------------------- combined outputs


def write_combined(outdir: Path, done: Sequence[tuple[WorkItem, Marker]], labels: Sequence[str]) -> dict[str, int]:
    """``dataset.jsonl``, ``dataset.parquet`` and ``summary.csv`` from the per-session files of ``done``
    (manifest order); ``labels``: every code the model scores, for stable columns."""
    summary: list[dict[str, Any]] = []
    meta_keys = sorted({k for item, _ in done for k, _ in item.metadata})
    n_rows = 0
    with (atomic_writer(outdir / "dataset.jsonl") as fh,
          ParquetSink(outdir / "dataset.parquet", labels, meta_keys) as pq):
        for item, marker in done:
            meta = dict(item.metadata)
            for s in marker.sessions:
                records = read_records(outdir / s["output"])
                rows = [{**r, "source": item.source, "metadata": meta} for r in records]
                fh.writelines(record_line(row) for row in rows)
                pq.add(rows)
                n_rows += len(rows)
                summary.append(session_summary(item, s, records, labels))
    write_summary(outdir / "summary.csv", summary, labels, meta_keys)
    return {"sessions": len(summary), "utterances": n_rows}


def count_columns(labels: Sequence[str]) -> list[str]:
    therapist = [c for c in labels if c not in CLIENT_TALK_CODES and c != RISK_FLAG and c != OTHER]
    return therapist + [OTHER] + [c for c in CLIENT_TALK_CODES if c in labels]


def session_summary(item: WorkItem, entry: dict[str, Any], records: Sequence[dict[str, Any]],
                    labels: Sequence[str]) -> dict[str, Any]:
    from tagger.evaluation.miti import summary_scores

    therapist = [r for r in records if r["speaker"] == "therapist"]
    client = [r for r in records if r["speaker"] == "client"]
    risk = [r["utterance_id"] for r in client if r.get("risk_indicator")]
    counts = {c: 0 for c in count_columns(labels)}
    for r in therapist:
        for c in r["codes"]:
            counts[c] = counts.get(c, 0) + 1
    for r in client:
        if r.get("client_talk") in counts:
            counts[r["client_talk"]] += 1
    miti = summary_scores([frozenset(c for c in r["codes"] if c != OTHER) for r in therapist],
                          [r.get("client_talk") for r in client],
                          frozenset(load_taxonomy().predictable_therapist_ids))
    return {
        "source": item.source, "session_id": entry["session_id"], "output": entry["output"],
        "note": entry.get("note", ""), "utterances": len(records), "therapist_utterances": len(therapist),
        "client_utterances": len(client), **{k: miti[k] for k in MITI_COLUMNS},
        "risk_flags": len(risk), "risk_utterance_ids": ";".join(risk),
        "review_utterances": sum(bool(r.get("review")) for r in records),
        **{f"n_{c}": n for c, n in counts.items()}, **{f"meta_{k}": v for k, v in item.metadata},
    }


def write_summary(path: Path, rows: Sequence[dict[str, Any]], labels: Sequence[str], meta_keys: Sequence[str]) -> None:
    head = ["source", "session_id", "output", "note", "utterances", "therapist_utterances", "client_utterances",
            *MITI_COLUMNS, "risk_flags", "risk_utterance_ids", "review_utterances",
            *[f"n_{c}" for c in count_columns(labels)], *[f"meta_{k}" for k in meta_keys]]
    extra = sorted({k for r in rows for k in r} - set(head))  # codes outside the model's labels: never expected
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=head + extra, lineterminator="\n", restval="")
    w.writeheader()
    for r in rows:
        w.writerow({k: _csv_value(v) for k, v in r.items()})
    with atomic_writer(path) as fh:
        fh.write(buf.getvalue())


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4f}".rstrip("0").rstrip(".") if v == v else ""
    return v


class ParquetSink:
    """Rows to a Parquet file in row groups of ``rows_per_group`` (memory stays flat), written atomically."""

    def __init__(self, path: Path, labels: Sequence[str], meta_keys: Sequence[str], rows_per_group: int = 50_000):
        import pyarrow as pa

        self.path, self.rows_per_group = path, rows_per_group
        self.labels, self.meta_keys = list(labels), list(meta_keys)
        self.schema = pa.schema([
            ("source", pa.string()), ("session_id", pa.string()), ("utterance_id", pa.string()),
            ("speaker", pa.string()), ("speaker_label", pa.string()), ("text", pa.string()),
            ("start", pa.float64()), ("end", pa.float64()), ("codes", pa.list_(pa.string())),
            ("main_behaviour", pa.string()), ("client_talk", pa.string()), ("risk_indicator", pa.bool_()),
            ("review", pa.list_(pa.string())), ("evidence", pa.map_(pa.string(), pa.string())),
            *[(f"score_{k}", pa.float64()) for k in self.labels], *[(f"meta_{k}", pa.string()) for k in self.meta_keys],
        ])
        self.buffer: list[dict[str, Any]] = []

    def __enter__(self) -> ParquetSink:
        import pyarrow.parquet as pq

        self._cm = atomic_writer(self.path, "wb")
        self._writer = pq.ParquetWriter(self._cm.__enter__(), self.schema, compression="zstd")
        return self

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        self.buffer.extend(rows)
        if len(self.buffer) >= self.rows_per_group:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        cols: dict[str, list[Any]] = {name: [] for name in self.schema.names}
        for r in self.buffer:
            for name in ("source", "session_id", "utterance_id", "speaker", "speaker_label", "text", "start", "end",
                         "codes", "main_behaviour", "client_talk", "risk_indicator"):
                cols[name].append(r.get(name))
            cols["review"].append(r.get("review") or [])
            cols["evidence"].append(list((r.get("evidence") or {}).items()))
            for k in self.labels:
                cols[f"score_{k}"].append(r["scores"].get(k))
            for k in self.meta_keys:
                cols[f"meta_{k}"].append(r["metadata"].get(k))
        self._writer.write_table(pa.Table.from_pydict(cols, schema=self.schema))
        self.buffer = []

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        try:
            if exc_type is None and self.buffer:
                self._flush()
            self._writer.close()
        finally:
            self._cm.__exit__(exc_type, exc, tb)


def write_errors(path: Path, failed: Iterable[tuple[WorkItem, Marker]]) -> int:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ERROR_COLUMNS)
    n = 0
    for item, m in failed:
        w.writerow([item.source, item.name, *(m.error.get(k, "") for k in ("stage", "type", "message"))])
        n += 1
    with atomic_writer(path) as fh:
        fh.write(buf.getvalue())
    return n
