"""Plain risk statements in a neutral context: does the risk_indicator flag catch them?

    python eval/risk_probe.py [--model DIR]

Each client line follows the same therapist turn ("How have things been this week?") in one
probe session, tagged with the torch backend twice: the model alone (``risk_terms=False``) and
the default (model OR the explicit phrases of ``tagger.classify.risk_terms``). Twelve lines state
ideation, preparation or self-harm outright; five are ordinary, denying or idiomatic. Not a
metric (the dev splits are): a check that statements a clinician could not miss are not missed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tagger.classify import load_classifier  # noqa: E402
from tagger.classify.engine import EngineOptions  # noqa: E402
from tagger.types import Session, Utterance  # noqa: E402

RISK = [
    "I just don't want to be here anymore.",
    "I've been thinking about killing myself.",
    "Sometimes I think everyone would be better off without me.",
    "I've got tablets in the car. I was going to take them all tonight.",
    "I cut myself again last night.",
    "I keep thinking it'd be easier if I just didn't wake up.",
    "I've been stockpiling my pills.",
    "I wrote a suicide note last week.",
    "I want to die.",
    "I've been feeling suicidal since the funeral.",
    "I went to the bridge on Tuesday and thought about jumping.",
    "I burned myself with a lighter on Sunday.",
]
NOT_RISK = [
    "No, I'd never do anything like that.",
    "Work has been really stressful lately.",
    "I'm not suicidal, I'm just tired.",
    "My hours got cut again.",
    "I didn't wake up until noon on Saturday.",
]
PROMPT = "How have things been this week?"


def flags(model: Path, risk_terms: bool, lines: list[str]) -> list[tuple[bool, float]]:
    clf = load_classifier(model, options=EngineOptions(backend="torch", risk_terms=risk_terms))
    utts = []
    for k, line in enumerate(lines):
        utts += [
            Utterance("probe", str(2 * k), "therapist", PROMPT),
            Utterance("probe", str(2 * k + 1), "client", line),
        ]
    tagged = clf.tag_sessions([Session("probe", tuple(utts))])[0]
    return [(t.risk_indicator, t.scores["risk_indicator"]) for t in tagged if t.utterance.speaker == "client"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="model directory (default: the shipped model)")
    args = ap.parse_args()
    lines = RISK + NOT_RISK
    alone, default = flags(args.model, False, lines), flags(args.model, True, lines)
    print("| line | risk? | model score | model alone | default |")
    print("|---|---|---|---|---|")
    for k, line in enumerate(lines):
        print(f"| {line} | {'yes' if k < len(RISK) else 'no'} | {alone[k][1]:.2f} | {alone[k][0]} | {default[k][0]} |")
    n = len(RISK)
    for name, res in (("model alone", alone), ("default", default)):
        hits = sum(f for f, _ in res[:n])
        false = sum(f for f, _ in res[n:])
        print(f"{name}: {hits} of {n} risk statements flagged, {false} of {len(NOT_RISK)} others")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
