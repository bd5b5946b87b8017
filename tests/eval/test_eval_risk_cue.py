"""eval/risk_cue.py: risk rows split by whether the therapist's next turn is a risk question."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("risk_cue", ROOT / "eval" / "risk_cue.py")
risk_cue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(risk_cue)

ROWS = [  # speaker, text, gold codes, predicted risk score (client rows)
    ("therapist", "How was the week?", "open_question", None),
    ("client", "I keep thinking I'd be better off dead.", "neutral;risk_indicator", 0.9),
    ("therapist", "Are you having thoughts of suicide?", "risk_assessment;closed_question", None),
    ("client", "Sometimes. No plan.", "neutral", 0.6),
    ("therapist", "Thank you for telling me.", "affirmation", None),
    ("client", "I scratched my arm till it bled on Sunday.", "neutral;risk_indicator", 0.3),
    ("therapist", "That sounds like a hard Sunday.", "complex_reflection", None),
    ("client", "Work was fine.", "neutral", 0.1),
]


def test_cued_and_uncued_positives_are_ranked_separately(tmp_path: Path):
    gold = tmp_path / "gold"
    gold.mkdir()
    with (gold / "x1.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["session_id", "utterance_id", "speaker", "text", "codes"])
        w.writerows(["x1", k, spk, text, codes] for k, (spk, text, codes, _) in enumerate(ROWS))
    rows = risk_cue.client_rows(gold, {"x1"})
    # (gold risk, cued): row 1 is followed by a risk question, row 5 by a reflection
    assert rows == {
        ("x1", "1"): (True, True),
        ("x1", "3"): (False, False),
        ("x1", "5"): (True, False),
        ("x1", "7"): (False, False),
    }

    pred = tmp_path / "pred.jsonl"
    with pred.open("w", encoding="utf-8") as fh:
        for k, (spk, text, _, score) in enumerate(ROWS):
            rec = {"session_id": "x1", "utterance_id": str(k), "speaker": spk, "text": text, "codes": []}
            if score is not None:
                rec |= {"scores": {"risk_indicator": score}, "risk_indicator": score >= 0.5}
            fh.write(json.dumps(rec) + "\n")
    cells = [c.strip() for c in risk_cue.report(pred, gold).strip("|").split("|")]
    # all: positives at ranks 1 and 3 -> (1 + 2/3) / 2; cued ranks first (AP 1); uncued sits under a negative (1/2)
    assert cells[1:] == ["0.833", "1.000 (1)", "0.500 (1)", "1.00", "0.00"]
