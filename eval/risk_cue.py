"""Risk flags with and without the therapist's reaction: how much of a model's risk ranking rides on it.

    python eval/risk_cue.py PRED.jsonl [PRED.jsonl ...] [--gold training/data/authored]

PRED files are `tagger tag` output for gold sessions (``tagger eval --model DIR`` writes one,
``predictions-model-*.jsonl``, next to its report). Each gold client ``risk_indicator`` row is *cued*
when the therapist's next turn is gold ``risk_assessment`` (a risk question right after the
statement), *uncued* otherwise. For each file: average precision of the model's risk score with all
positives (as ``tagger eval`` reports it), then with only the cued or only the uncued positives against
every negative client row, and the flag's recall on each group. A model that reads the statement
itself ranks uncued rows about as well as cued ones; one that reads the reaction does not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tagger.evaluation.align import read_predictions  # noqa: E402
from tagger.evaluation.metrics import average_precision  # noqa: E402
from tagger.io.labeled import read_labeled  # noqa: E402
from tagger.training.data import AUTHORED_DIR  # noqa: E402


def client_rows(gold_dir: Path, session_ids: set[str]) -> dict[tuple[str, str], tuple[bool, bool]]:
    """(session, utterance) of each client row -> (gold risk_indicator, cued by the next therapist turn)."""
    out = {}
    for ls in read_labeled(gold_dir, fmt="codes"):
        if ls.session_id not in session_ids:
            continue
        utts = ls.session.utterances
        for k, u in enumerate(utts):
            if u.speaker != "client":
                continue
            nxt = next((v for v in utts[k + 1 :] if v.speaker == "therapist"), None)
            cued = nxt is not None and "risk_assessment" in ls.labels[nxt.utterance_id].codes
            out[(ls.session_id, u.utterance_id)] = (bool(ls.labels[u.utterance_id].risk_indicator), cued)
    return out


def report(pred: Path, gold_dir: Path) -> str:
    tagged = [t for t in read_predictions(pred) if t.utterance.speaker == "client"]
    rows = client_rows(gold_dir, {t.utterance.session_id for t in tagged})
    keep = [(rows[(t.utterance.session_id, t.utterance.utterance_id)], t) for t in tagged]
    score = np.array([t.scores["risk_indicator"] for _, t in keep])
    flag = np.array([t.risk_indicator for _, t in keep])
    gold = np.array([g for (g, _), _ in keep])
    cued = np.array([c for (_, c), _ in keep])
    cells = [f"{average_precision(score, gold):.3f}"]
    for group in (gold & cued, gold & ~cued):
        rows_in = ~gold | group
        cells.append(f"{average_precision(score[rows_in], group[rows_in]):.3f} ({int(group.sum())})")
    for group in (gold & cued, gold & ~cued):
        cells.append(f"{flag[group].mean():.2f}")
    return f"| {pred} | " + " | ".join(cells) + " |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pred", type=Path, nargs="+", help="tagger tag output (JSONL) for gold sessions")
    ap.add_argument("--gold", type=Path, default=AUTHORED_DIR, help="gold folder (default: the authored corpus)")
    args = ap.parse_args()
    print("| predictions | risk AP, all | AP, cued (n) | AP, uncued (n) | recall, cued | recall, uncued |")
    print("|---|---|---|---|---|---|")
    for p in args.pred:
        print(report(p, args.gold))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
