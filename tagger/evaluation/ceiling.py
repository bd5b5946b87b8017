"""Human ceiling: inter-annotator agreement next to the model's agreement with the annotators.

For sessions coded by several annotators (AnnoMI-full ``annotator_id``), every pair of
annotators is compared on the utterances both coded, and the model is compared with every
annotator; counts are pooled over pairs and sessions, so both sides use the same metric on
the same kind of items. Fleiss' kappa is reported for the annotators alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

from tagger.evaluation.agreement import fleiss_kappa
from tagger.evaluation.align import AlignedSession
from tagger.evaluation.metrics import (
    NONE_LABEL,
    accuracy,
    binary_kappa,
    confusion_counts,
    macro_f1,
    micro_prf,
    multiclass_kappa,
    opt,
)
from tagger.evaluation.results import CeilingRow, HumanCeiling
from tagger.evaluation.tables import MAIN_LABELS, TALK_LABELS, Counts, Layout, count, gold_view, pred_view


def _add(total: Counts | None, c: Counts) -> Counts:
    if total is None:
        return c
    return Counts(total.codes + c.codes, total.main + c.main, total.talk + c.talk, total.n_utterances + c.n_utterances)


def _rows(task_counts: Counts | None, n_therapist: int) -> dict[tuple[str, str], tuple[float | None, int]]:
    if task_counts is None:
        return {}
    out: dict[tuple[str, str], tuple[float | None, int]] = {}
    for task, cm, labels in (
        ("main_behaviour", task_counts.main, MAIN_LABELS),
        ("client_talk", task_counts.talk, TALK_LABELS),
    ):
        n = int(cm.sum())
        if not n:
            continue
        present = (confusion_counts(cm)[:, :3].sum(1) > 0) & (np.array(labels) != NONE_LABEL)
        out[(task, "kappa")] = (opt(multiclass_kappa(cm)), n)
        out[(task, "agreement")] = (opt(accuracy(cm)), n)
        out[(task, "macro_f1")] = (opt(macro_f1(confusion_counts(cm), present)), n)
    codes = task_counts.codes[:n_therapist]
    if n_therapist and codes.sum():
        n = int(codes[:, :].sum(1).max())
        present = codes[:, :3].sum(1) > 0
        out[("therapist_codes", "micro_f1")] = (opt(micro_prf(codes)[2]), n)
        out[("therapist_codes", "macro_f1")] = (opt(macro_f1(codes, present)), n)
        kappas = binary_kappa(codes[present])
        out[("therapist_codes", "mean_kappa")] = (opt(np.nanmean(kappas)) if np.any(~np.isnan(kappas)) else None, n)
    return out


def human_ceiling(sessions: Sequence[AlignedSession], layout: Layout) -> HumanCeiling | None:
    """Agreement among annotators and of the model with them; ``None`` without multi-annotated sessions."""
    multi = [s for s in sessions if len(s.annotations) >= 2]
    if not multi:
        return None
    human: Counts | None = None
    model: Counts | None = None
    fleiss_rows: list[list[int]] = []
    annotators: set[str] = set()
    for s in multi:
        anns = s.annotations
        annotators |= set(anns)
        for a, b in combinations(sorted(anns), 2):
            items = [
                (u.speaker, anns[a][u.utterance_id], gold_view(anns[b][u.utterance_id]))
                for u in s.utterances
                if u.utterance_id in anns[a] and u.utterance_id in anns[b]
            ]
            human = _add(human, count(items, layout))
        for a in sorted(anns):
            items = [
                (u.speaker, anns[a][u.utterance_id], pred_view(u.pred))
                for u in s.utterances
                if u.utterance_id in anns[a]
            ]
            model = _add(model, count(items, layout))
        for u in s.utterances:
            labels = [anns[a][u.utterance_id].main_behaviour for a in anns if u.utterance_id in anns[a]]
            labels = [x for x in labels if x is not None]
            if len(labels) >= 2:
                fleiss_rows.append([labels.count(m) for m in MAIN_LABELS[:-1]])
    h, m = _rows(human, len(layout.therapist)), _rows(model, len(layout.therapist))
    rows = [
        CeilingRow(
            task,
            metric,
            h[(task, metric)][0],
            m.get((task, metric), (None, 0))[0],
            h[(task, metric)][1],
            m.get((task, metric), (None, 0))[1],
        )
        for task, metric in h
    ]
    if fleiss_rows:
        rows.append(
            CeilingRow(
                "main_behaviour", "fleiss_kappa", opt(fleiss_kappa(np.array(fleiss_rows))), None, len(fleiss_rows), 0
            )
        )
    return HumanCeiling(n_sessions=len(multi), annotators=tuple(sorted(annotators)), rows=tuple(rows))
