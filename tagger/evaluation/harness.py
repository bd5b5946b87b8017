"""Score prediction sets against gold: the library entry point behind ``tagger eval``.

gold = read_labeled("AnnoMI-full.csv")
ev = evaluate(gold, {"baseline": read_predictions("pred.jsonl")})
write_report(ev, "reports/annomi-dev")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from itertools import combinations

import numpy as np

from tagger.evaluation import bootstrap as bs
from tagger.evaluation.align import AlignedSession, align, speaker_mismatches
from tagger.evaluation.calibration import reliability
from tagger.evaluation.ceiling import human_ceiling
from tagger.evaluation.metrics import (
    NONE_LABEL,
    LabelScore,
    accuracy,
    average_precision,
    confusion_counts,
    label_scores,
    macro_f1,
    micro_prf,
    multiclass_kappa,
    opt,
    precision_recall_f1,
)
from tagger.evaluation.miti import SCORES, SessionMiti, score_agreement, summary_scores
from tagger.evaluation.results import Average, Breakdown, ClassTask, EvalOptions, Evaluation, SystemResult
from tagger.evaluation.tables import (
    MAIN_LABELS,
    TALK_LABELS,
    Layout,
    SessionTables,
    code_events,
    layout_for,
    pred_view,
    role_events,
    session_tables,
)
from tagger.io.labeled import LabeledSession
from tagger.types import TaggedUtterance

Stat = Callable[[np.ndarray], np.ndarray]


def _present(counts: np.ndarray) -> np.ndarray:
    """Labels that occur in the gold or the prediction (``tp + fp + fn > 0``)."""
    return np.asarray(counts)[..., :3].sum(-1) > 0


def _micro_stat(sel: np.ndarray) -> Stat:
    return lambda c: micro_prf(c[..., sel, :])[2]


def _macro_stat(sel: np.ndarray) -> Stat:
    return lambda c: macro_f1(c, sel)


def _cm_macro_stat(sel: np.ndarray) -> Stat:
    return lambda cm: macro_f1(confusion_counts(cm), sel)


def _class_sel(cm: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    return _present(confusion_counts(cm)) & (np.array(labels) != NONE_LABEL)


def _ci(
    per_session: np.ndarray, stat: Stat, opts: EvalOptions, w: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray] | None:
    if w is None:
        return None
    return bs.bootstrap_ci(per_session, stat, weights=w, level=opts.level)


def _class_task(
    task: str, cms: np.ndarray, labels: tuple[str, ...], opts: EvalOptions, w: np.ndarray | None
) -> ClassTask | None:
    cm = cms.sum(0)
    n = int(cm.sum())
    if n == 0:
        return None
    sel = _class_sel(cm, labels)
    missing = int(cm[:, labels.index(NONE_LABEL)].sum())
    keep = [i for i, lab in enumerate(labels) if lab != NONE_LABEL or missing]
    real = [i for i, lab in enumerate(labels) if lab != NONE_LABEL]
    ci = _ci(cms, _cm_macro_stat(sel), opts, w)
    return ClassTask(
        task=task,
        labels=tuple(labels[i] for i in keep),
        confusion=tuple(tuple(int(cm[i, j]) for j in keep) for i in keep),
        per_class=label_scores([labels[i] for i in real], confusion_counts(cm)[real]),
        n=n,
        missing=missing,
        accuracy=opt(accuracy(cm)),
        kappa=opt(multiclass_kappa(cm)),
        macro_f1=opt(macro_f1(confusion_counts(cm), sel)),
        macro_f1_low=opt(ci[0]) if ci else None,
        macro_f1_high=opt(ci[1]) if ci else None,
    )


def _groups(layout: Layout) -> dict[str, np.ndarray]:
    k_t = len(layout.therapist)
    idx = np.arange(len(layout.codes))
    return {"therapist": idx < k_t, "client": idx >= k_t}


def _averages(t: SessionTables, opts: EvalOptions, w: np.ndarray | None) -> tuple[Average, ...]:
    total = t.codes.sum(0)
    out = []
    for group, in_group in _groups(t.layout).items():
        if not in_group.any():
            continue
        sel = in_group & _present(total)
        p, r, f = micro_prf(total[in_group])
        mi = _ci(t.codes, _micro_stat(in_group), opts, w)
        ma = _ci(t.codes, _macro_stat(sel), opts, w)
        out.append(
            Average(
                group=group,
                n_codes=int(sel.sum()),
                micro_precision=opt(p),
                micro_recall=opt(r),
                micro_f1=opt(f),
                macro_f1=opt(macro_f1(total, sel)),
                micro_f1_low=opt(mi[0]) if mi else None,
                micro_f1_high=opt(mi[1]) if mi else None,
                macro_f1_low=opt(ma[0]) if ma else None,
                macro_f1_high=opt(ma[1]) if ma else None,
            )
        )
    return tuple(out)


def _code_scores(
    t: SessionTables, opts: EvalOptions, w: np.ndarray | None, events: dict[str, tuple[np.ndarray, np.ndarray]]
) -> tuple[tuple[LabelScore, ...], tuple[LabelScore, ...]]:
    scores = label_scores(t.layout.codes, t.codes.sum(0))
    ci = _ci(t.codes, lambda c: precision_recall_f1(c)[2], opts, w)  # per-code F1
    if ci is not None:
        scores = tuple(replace(s, f1_low=opt(ci[0][i]), f1_high=opt(ci[1][i])) for i, s in enumerate(scores))
    scores = tuple(
        replace(s, average_precision=opt(average_precision(*events[s.label]))) if s.label in events else s
        for s in scores
    )
    k_t = len(t.layout.therapist)
    return scores[:k_t], scores[k_t:]


def _breakdown(key: str, t: SessionTables, idx: Sequence[int]) -> Breakdown:
    codes, main, talk = t.codes[idx].sum(0), t.main[idx].sum(0), t.talk[idx].sum(0)
    th = _groups(t.layout)["therapist"]
    return Breakdown(
        key=key,
        n_sessions=len(idx),
        n_utterances=int(t.n_utterances[idx].sum()),
        therapist_micro_f1=opt(micro_prf(codes[th])[2]) if th.any() else None,
        therapist_macro_f1=opt(macro_f1(codes, th & _present(codes))) if th.any() else None,
        main_accuracy=opt(accuracy(main)),
        main_macro_f1=opt(macro_f1(confusion_counts(main), _class_sel(main, MAIN_LABELS))) if main.sum() else None,
        talk_macro_f1=opt(macro_f1(confusion_counts(talk), _class_sel(talk, TALK_LABELS))) if talk.sum() else None,
    )


def _miti(sessions: Sequence[AlignedSession], layout: Layout) -> tuple[tuple, tuple[SessionMiti, ...]]:
    codes = frozenset(layout.therapist)
    talk_observed = "change_talk" in layout.client
    per = []
    for s in sessions:
        th = [u for u in s.utterances if u.speaker == "therapist"]
        cl = [u for u in s.utterances if u.speaker == "client"]
        gold = summary_scores([u.gold.codes for u in th], [u.gold.client_talk for u in cl], codes, talk_observed)
        pred = summary_scores(
            [pred_view(u.pred).codes for u in th], [pred_view(u.pred).client_talk for u in cl], codes, talk_observed
        )
        per.append(SessionMiti(s.session_id, gold, pred))
    agreements = tuple(
        score_agreement(name, [p.gold[name] for p in per], [p.pred[name] for p in per], codes)
        for name in SCORES
        if any(p.gold[name] is not None for p in per)
    )
    return agreements, tuple(per)


def score_system(
    sessions: Sequence[AlignedSession],
    *,
    name: str,
    source: str = "",
    layout: Layout | None = None,
    options: EvalOptions | None = None,
) -> tuple[SystemResult, SessionTables]:
    """All metrics of one aligned prediction set (and its per-session count tables)."""
    options = options or EvalOptions()
    layout = layout or layout_for(sessions)
    t = session_tables(sessions, layout)
    w = bs.resample_weights(len(sessions), options.n_resamples, options.seed) if options.n_resamples else None
    per_code = code_events(sessions, layout)
    therapist, client = _code_scores(t, options, w, per_code)
    events = role_events(per_code, layout)
    calib = [reliability(p, y, n_bins=options.n_bins, name=g) for g, (p, y) in events.items()]
    if len(events) > 1:
        p_all = np.concatenate([p for p, _ in events.values()])
        y_all = np.concatenate([y for _, y in events.values()])
        calib.append(reliability(p_all, y_all, n_bins=options.n_bins, name="all"))
    miti, miti_sessions = _miti(sessions, layout)
    topics: dict[str, list[int]] = {}
    for i, topic in enumerate(t.topics):
        if topic:
            topics.setdefault(topic, []).append(i)
    result = SystemResult(
        name=name,
        source=source,
        n_sessions=len(sessions),
        n_utterances=int(t.n_utterances.sum()),
        speaker_mismatches=speaker_mismatches(sessions),
        therapist_codes=therapist,
        client_codes=client,
        averages=_averages(t, options, w),
        main_behaviour=_class_task("main_behaviour", t.main, MAIN_LABELS, options, w),
        client_talk=_class_task("client_talk", t.talk, TALK_LABELS, options, w),
        calibration=tuple(calib),
        miti=miti,
        miti_sessions=miti_sessions,
        per_session=tuple(_breakdown(sid, t, [i]) for i, sid in enumerate(t.session_ids)),
        per_topic=tuple(_breakdown(k, t, v) for k, v in sorted(topics.items())),
        human_ceiling=human_ceiling(sessions, layout),
    )
    return result, t


def compare(
    a: SessionTables, b: SessionTables, names: tuple[str, str], options: EvalOptions
) -> tuple[bs.PairedComparison, ...]:
    """Paired session bootstrap of the headline metrics, system A minus system B."""
    if a.session_ids != b.session_ids:
        raise ValueError("paired comparison needs both systems scored on the same sessions")
    out = []
    groups = _groups(a.layout)
    present = _present(a.codes.sum(0)) | _present(b.codes.sum(0))

    def paired(x: np.ndarray, y: np.ndarray, stat: Stat, metric: str) -> bs.PairedComparison:
        return bs.paired_bootstrap(
            x,
            y,
            stat,
            metric=metric,
            names=names,
            n_resamples=options.n_resamples,
            seed=options.seed,
            level=options.level,
        )

    for group, in_group in groups.items():
        if in_group.any():
            out.append(paired(a.codes, b.codes, _micro_stat(in_group), f"{group}_micro_f1"))
            out.append(paired(a.codes, b.codes, _macro_stat(in_group & present), f"{group}_macro_f1"))
    for task, ca, cb, labels in (
        ("main_behaviour", a.main, b.main, MAIN_LABELS),
        ("client_talk", a.talk, b.talk, TALK_LABELS),
    ):
        if ca.sum():
            sel = _class_sel(ca.sum(0), labels) | _class_sel(cb.sum(0), labels)
            out.append(paired(ca, cb, _cm_macro_stat(sel), f"{task}_macro_f1"))
    return tuple(out)


def evaluate(
    gold: Sequence[LabeledSession],
    predictions: Mapping[str, Sequence[TaggedUtterance]],
    *,
    gold_name: str = "gold",
    sources: Mapping[str, str] | None = None,
    options: EvalOptions | None = None,
    partial: bool = False,
) -> Evaluation:
    """Align and score each named prediction set; compare every pair with a paired bootstrap."""
    options = options or EvalOptions()
    if not predictions:
        raise ValueError("evaluate needs at least one prediction set")
    aligned = {name: align(gold, preds, name=name, partial=partial) for name, preds in predictions.items()}
    first = next(iter(aligned.values()))
    layout = layout_for(first)
    results, tables = [], {}
    for name, sessions in aligned.items():
        r, t = score_system(
            sessions,
            name=name,
            source=(sources or {}).get(name, ""),
            layout=layout,
            options=options,
        )
        results.append(r)
        tables[name] = t
    comparisons: list[bs.PairedComparison] = []
    notes: list[str] = []
    if options.n_resamples:
        for x, y in combinations(tables, 2):
            if tables[x].session_ids == tables[y].session_ids:
                comparisons += compare(tables[x], tables[y], (x, y), options)
            else:
                notes.append(f"{x} and {y} cover different sessions (--partial): no paired comparison")
    return Evaluation(
        gold=gold_name,
        n_gold_sessions=len(gold),
        options=options,
        systems=tuple(results),
        comparisons=tuple(comparisons),
        notes=tuple(notes),
    )
