"""Average precision of the ``risk_indicator`` score over a gold corpus's client rows (threshold-free).

    python eval/risk_ap.py PREDICTIONS.jsonl [--gold training/data/authored]

PREDICTIONS is the ``predictions-*.jsonl`` that ``tagger eval --model ... -o OUT`` writes; its client
rows carry ``scores["risk_indicator"]``. Gold: the authored CSVs (``codes`` column). A ranking measure
next to the F1 at the calib threshold, which on a few dozen dev positives moves with the threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.metrics import average_precision_score  # noqa: E402

from tagger.io.labeled import read_labeled  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("predictions", type=Path)
    ap.add_argument("--gold", type=Path, default=ROOT / "training" / "data" / "authored")
    args = ap.parse_args()
    gold = {
        (ls.session_id, uid): bool(g.risk_indicator)
        for f in sorted(args.gold.glob("*.csv"))
        if f.name != "sessions.csv"
        for ls in read_labeled(f, fmt="codes")
        for uid, g in ls.labels.items()
    }
    y, s = [], []
    with args.predictions.open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            if d["speaker"] == "client":
                y.append(gold[(d["session_id"], str(d["utterance_id"]))])
                s.append(d["scores"].get("risk_indicator", 0.0))
    ap_ = average_precision_score(y, s)
    print(f"risk_indicator average precision {ap_:.3f} over {len(y)} client rows, {sum(y)} positive")


if __name__ == "__main__":
    main()
