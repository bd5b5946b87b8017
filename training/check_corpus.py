"""Validate the authored corpus and count positives per code.

    python -m training.check_corpus [DIR] [GLOB]     (e.g. training/data/authored 's0[0-1]*.csv')

Exits non-zero and names file, row and problem when a session file is malformed.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

from tagger.taxonomy import CLIENT_TALK_CODES, OTHER, RISK_FLAG, load_taxonomy

HEADER = ["session_id", "utterance_id", "speaker", "text", "codes"]


def check_file(path: Path, therapist_codes: set[str]) -> tuple[Counter, list[str]]:
    counts: Counter = Counter()
    problems: list[str] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header != HEADER:
            return counts, [f"{path}: header must be {','.join(HEADER)}, got {header}"]
        expected_id = 0
        for lineno, row in enumerate(reader, start=2):
            if len(row) != 5:
                problems.append(f"{path}:{lineno}: expected 5 columns, got {len(row)}")
                continue
            sid, uid, speaker, text, codes_s = row
            if sid != path.stem:
                problems.append(f"{path}:{lineno}: session_id {sid!r} != file name {path.stem!r}")
            if uid != str(expected_id):
                problems.append(f"{path}:{lineno}: utterance_id {uid!r}, expected {expected_id}")
            expected_id += 1
            if not text.strip():
                problems.append(f"{path}:{lineno}: empty text")
            codes = [c for c in codes_s.split(";") if c]
            if speaker == "therapist":
                bad = [c for c in codes if c not in therapist_codes]
                if bad or not codes:
                    problems.append(f"{path}:{lineno}: bad therapist codes {codes_s!r}")
                if OTHER in codes and len(codes) > 1:
                    problems.append(f"{path}:{lineno}: 'other' combined with other codes")
                counts.update(codes)
                counts["_therapist_utts"] += 1
            elif speaker == "client":
                talk = [c for c in codes if c in CLIENT_TALK_CODES]
                rest = [c for c in codes if c not in CLIENT_TALK_CODES and c != RISK_FLAG]
                if len(talk) != 1 or rest:
                    problems.append(
                        f"{path}:{lineno}: client needs exactly one talk code "
                        f"(+ optional risk_indicator), got {codes_s!r}"
                    )
                counts.update(codes)
                counts["_client_utts"] += 1
            else:
                problems.append(f"{path}:{lineno}: speaker must be therapist or client, got {speaker!r}")
    return counts, problems


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).parent / "data" / "authored"
    tax = load_taxonomy()
    therapist_codes = set(tax.therapist_ids)
    total: Counter = Counter()
    problems: list[str] = []
    patterns = argv[1:] or ["*.csv"]  # one or more globs
    files = sorted({p for pat in patterns for p in root.glob(pat) if p.name != "sessions.csv"})
    for f in files:
        c, p = check_file(f, therapist_codes)
        total.update(c)
        problems.extend(p)
    print(f"{len(files)} sessions, {total['_therapist_utts']} therapist and {total['_client_utts']} client utterances")
    for code in list(tax.therapist_ids) + list(CLIENT_TALK_CODES) + [RISK_FLAG]:
        print(f"  {code:30s} {total[code]}")
    for p in problems:
        print("PROBLEM", p)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
