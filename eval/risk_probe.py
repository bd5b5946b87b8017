"""Plain risk statements in a neutral context: does the risk_indicator flag catch them?

    python eval/risk_probe.py [--model DIR]

Each client line follows the same therapist turn ("How have things been this week?") in one
probe session, tagged with the torch backend twice: the model alone (``risk_terms=False``) and
the default (model OR the explicit phrases of ``tagger.classify.risk_terms``). Twelve lines state
ideation, preparation or self-harm outright; five are ordinary, denying or idiomatic. Not a
metric (the dev splits are): a check that statements a clinician could not miss are not missed.

Then each risk line replaces one client turn in the middle of an ordinary authored session
(``s003``, panic disorder, no risk talk) and the model alone scores it there: how much the risk
head depends on the session around the utterance rather than on the utterance.

Last, the phrase list alone against the gold ``risk_indicator`` of every client row of the authored
corpus, by writing round (``training/ANNOTATION.md``, *Rounds and splits*): rows it fires on, how many
of them are gold, and the gold count.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tagger.classify import load_classifier  # noqa: E402
from tagger.classify.engine import EngineOptions  # noqa: E402
from tagger.classify.risk_terms import explicit_risk  # noqa: E402
from tagger.io.labeled import read_labeled  # noqa: E402
from tagger.training.data import AUTHORED_DIR  # noqa: E402
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


def flags(clf, lines: list[str]) -> list[tuple[bool, float]]:
    utts = []
    for k, line in enumerate(lines):
        utts += [
            Utterance("probe", str(2 * k), "therapist", PROMPT),
            Utterance("probe", str(2 * k + 1), "client", line),
        ]
    tagged = clf.tag_sessions([Session("probe", tuple(utts))])[0]
    return [(t.risk_indicator, t.scores["risk_indicator"]) for t in tagged if t.utterance.speaker == "client"]


def inserted(clf, lines: list[str], session_id: str = "s003") -> tuple[int, list[float]]:
    """Each line in place of the first client turn from row 20 of an ordinary session: its risk score."""
    base = read_labeled(AUTHORED_DIR / f"{session_id}.csv", fmt="codes")[0].session
    k = next(i for i, u in enumerate(base.utterances) if i >= 20 and u.speaker == "client")
    scores = []
    for line in lines:
        utts = list(base.utterances)
        utts[k] = Utterance(base.session_id, utts[k].utterance_id, "client", line)
        scores.append(float(clf.scores([Session(base.session_id, tuple(utts))])[0].risk[k]))
    return k, scores


ROUNDS = {
    "rounds 1-4": (1, 219),
    "round 5 (dev)": (220, 243),
    "round 6": (244, 258),
    "rounds 7-8": (259, 308),
    "round 9": (309, 333),
    "round 10": (334, 358),
}


def phrase_list_vs_gold() -> dict[str, tuple[int, int, int]]:
    """Per round: (rows the phrase list fires on, of them gold risk_indicator, gold risk_indicator rows)."""
    out = {}
    for name, (a, b) in ROUNDS.items():
        fired = hit = gold = 0
        for k in range(a, b + 1):
            ls = read_labeled(AUTHORED_DIR / f"s{k:03d}.csv", fmt="codes")[0]
            for u in ls.session.utterances:
                if u.speaker != "client":
                    continue
                g, m = bool(ls.labels[u.utterance_id].risk_indicator), explicit_risk(u.text) is not None
                fired, hit, gold = fired + m, hit + (m and g), gold + g
        out[name] = (fired, hit, gold)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="model directory (default: the shipped model)")
    args = ap.parse_args()
    lines = RISK + NOT_RISK
    model_only = load_classifier(args.model, options=EngineOptions(backend="torch", risk_terms=False))
    alone = flags(model_only, lines)
    default = flags(load_classifier(args.model, options=EngineOptions(backend="torch")), lines)
    print("| line | risk? | model score | model alone | default |")
    print("|---|---|---|---|---|")
    for k, line in enumerate(lines):
        print(f"| {line} | {'yes' if k < len(RISK) else 'no'} | {alone[k][1]:.2f} | {alone[k][0]} | {default[k][0]} |")
    n = len(RISK)
    for name, res in (("model alone", alone), ("default", default)):
        hits = sum(f for f, _ in res[:n])
        false = sum(f for f, _ in res[n:])
        print(f"{name}: {hits} of {n} risk statements flagged, {false} of {len(NOT_RISK)} others")
    row, mid = inserted(model_only, RISK)
    thr = model_only.config.thresholds["risk_indicator"]
    print(f"\nmodel alone, each risk statement as row {row} of s003 (threshold {thr:.2f}):")
    for line, score in zip(RISK, mid, strict=True):
        print(f"  {score:.2f}  {line}")
    print(f"{sum(x >= thr for x in mid)} of {n} flagged; highest score {max(mid):.2f}")
    print("\nphrase list alone vs gold risk_indicator (client rows of the authored corpus):")
    for name, (fired, hit, gold) in phrase_list_vs_gold().items():
        print(f"  {name}: fires on {fired}, {hit} of them gold; {gold} gold in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
