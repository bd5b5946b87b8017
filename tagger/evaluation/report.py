"""Write an :class:`~tagger.evaluation.results.Evaluation` as ``report.md``, ``report.html``,
``report.json`` and ``plots/*.png`` in one folder.

``report.json`` holds every number (the dataclasses as JSON); Markdown links the plots,
HTML embeds them so the file can be sent alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tagger import __version__
from tagger.evaluation import plots
from tagger.evaluation.metrics import LabelScore
from tagger.evaluation.miti import SCORES
from tagger.evaluation.render import Block, Heading, Image, Para, Table, to_html, to_markdown
from tagger.evaluation.results import ClassTask, Evaluation, SystemResult, to_dict


@dataclass(frozen=True)
class ReportFiles:
    folder: Path
    markdown: Path
    html: Path
    json: Path
    plots: tuple[Path, ...]


def f3(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def ci(x: float | None, lo: float | None, hi: float | None) -> str:
    return f3(x) if lo is None or hi is None else f"{f3(x)} [{f3(lo)}, {f3(hi)}]"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "system"


def _avg(r: SystemResult, group: str) -> str:
    a = next((a for a in r.averages if a.group == group), None)
    return "–" if a is None else ci(a.micro_f1, a.micro_f1_low, a.micro_f1_high)


def _avg_macro(r: SystemResult, group: str) -> str:
    a = next((a for a in r.averages if a.group == group), None)
    return "–" if a is None else ci(a.macro_f1, a.macro_f1_low, a.macro_f1_high)


def _task(t: ClassTask | None) -> str:
    return "–" if t is None else ci(t.macro_f1, t.macro_f1_low, t.macro_f1_high)


def _summary(ev: Evaluation) -> list[Block]:
    rows = []
    for r in ev.systems:
        risk = next((s for s in r.client_codes if s.label == "risk_indicator"), None)
        cal = next((c for c in r.calibration if c.name == "all"), r.calibration[0] if r.calibration else None)
        ece = cal.ece if cal else None
        rows.append(
            (
                r.name,
                str(r.n_sessions),
                str(r.n_utterances),
                _avg(r, "therapist"),
                _avg_macro(r, "therapist"),
                _task(r.main_behaviour),
                f3(r.main_behaviour.kappa) if r.main_behaviour else "–",
                _task(r.client_talk),
                f3(risk.f1) if risk else "–",
                f3(risk.average_precision) if risk else "–",
                f3(ece),
            )
        )
    header = (
        "system",
        "sessions",
        "utterances",
        "therapist micro-F1",
        "therapist macro-F1",
        "main behaviour macro-F1",
        "main behaviour κ",
        "client talk macro-F1",
        "risk F1",
        "risk AP",
        "ECE",
    )
    return [Heading("Summary"), Table(header, tuple(rows))]


def _code_table(scores: Sequence[LabelScore]) -> Table:
    rows = tuple(
        (
            f"`{s.label}`",
            str(s.support),
            str(s.predicted),
            f3(s.precision),
            f3(s.recall),
            ci(s.f1, s.f1_low, s.f1_high),
            f3(s.kappa),
            f3(s.average_precision),
        )
        for s in scores
    )
    return Table(
        ("code", "support", "predicted", "precision", "recall", "F1 [95% CI]", "Cohen's κ", "average precision"), rows
    )


def _class_task(t: ClassTask, title: str, image: Path) -> list[Block]:
    missing = f"; {t.missing} without a predicted label (column `(none)`)" if t.missing else ""
    blocks: list[Block] = [
        Heading(title, 4),
        Para(
            f"n = {t.n}; accuracy {f3(t.accuracy)}; Cohen's κ {f3(t.kappa)}; "
            f"macro-F1 {ci(t.macro_f1, t.macro_f1_low, t.macro_f1_high)}{missing}."
        ),
        Table(
            ("class", "support", "predicted", "precision", "recall", "F1"),
            tuple(
                (s.label, str(s.support), str(s.predicted), f3(s.precision), f3(s.recall), f3(s.f1))
                for s in t.per_class
            ),
        ),
        Table(
            ("gold \\ predicted",) + t.labels,
            tuple((lab,) + tuple(str(v) for v in row) for lab, row in zip(t.labels, t.confusion, strict=True)),
        ),
        Image(image, f"{title} confusion matrix"),
    ]
    return blocks


def _breakdown_table(rows: Sequence, key: str) -> Table:
    return Table(
        (
            key,
            "sessions",
            "utterances",
            "therapist micro-F1",
            "therapist macro-F1",
            "main acc.",
            "main macro-F1",
            "talk macro-F1",
        ),
        tuple(
            (
                b.key,
                str(b.n_sessions),
                str(b.n_utterances),
                f3(b.therapist_micro_f1),
                f3(b.therapist_macro_f1),
                f3(b.main_accuracy),
                f3(b.main_macro_f1),
                f3(b.talk_macro_f1),
            )
            for b in rows
        ),
    )


def _system(r: SystemResult, root: Path, made: list[Path]) -> list[Block]:
    slug = _slug(r.name)

    def img(p: Path | None, alt: str) -> list[Block]:
        if p is None:
            return []
        made.append(p)
        return [Image(p.relative_to(root), alt)]

    b: list[Block] = [Heading(f"System `{r.name}`")]
    b.append(Para(f"Source: `{r.source or r.name}`; {r.n_sessions} sessions, {r.n_utterances} utterances scored."))
    if r.speaker_mismatches:
        b.append(
            Para(
                f"Warning: {r.speaker_mismatches} predictions carry a different speaker role than the gold; "
                "they are scored under the gold role."
            )
        )
    if r.therapist_codes:
        b += [Heading("Therapist codes", 3), _code_table(r.therapist_codes)]
    if r.client_codes:
        b += [Heading("Client codes", 3), _code_table(r.client_codes)]
    if r.averages:
        b += [
            Heading("Averages", 3),
            Para("Micro pools all counts; macro averages F1 over codes present in gold or prediction."),
            Table(
                ("codes", "n codes", "micro P", "micro R", "micro F1 [95% CI]", "macro F1 [95% CI]"),
                tuple(
                    (
                        a.group,
                        str(a.n_codes),
                        f3(a.micro_precision),
                        f3(a.micro_recall),
                        ci(a.micro_f1, a.micro_f1_low, a.micro_f1_high),
                        ci(a.macro_f1, a.macro_f1_low, a.macro_f1_high),
                    )
                    for a in r.averages
                ),
            ),
        ]
    if r.main_behaviour or r.client_talk:
        b.append(Heading("AnnoMI-style single-label tasks", 3))
    if r.main_behaviour:
        p = plots.plot_confusion(
            r.main_behaviour, f"{r.name}: main behaviour", root / "plots" / f"{slug}_main_behaviour.png"
        )
        b += _class_task(r.main_behaviour, "Main therapist behaviour (4-way)", p.relative_to(root))
        made.append(p)
    if r.client_talk:
        p = plots.plot_confusion(r.client_talk, f"{r.name}: client talk", root / "plots" / f"{slug}_client_talk.png")
        b += _class_task(r.client_talk, "Client talk type", p.relative_to(root))
        made.append(p)
    if r.calibration:
        b += [
            Heading("Calibration", 3),
            Para(
                "Each (utterance, observed code) pair is one event: the code's score against the gold. "
                "Equal-width bins."
            ),
            Table(
                ("events", "n", "ECE", "Brier"),
                tuple((c.name, str(c.n), f3(c.ece), f3(c.brier)) for c in r.calibration),
            ),
        ]
        b += img(
            plots.plot_reliability(r.calibration, f"{r.name}: reliability", root / "plots" / f"{slug}_reliability.png"),
            "reliability diagram",
        )
    else:
        b += [
            Heading("Calibration", 3),
            Para("No scores in the predictions for the observed codes: calibration not measured."),
        ]
    if r.miti:
        b += [
            Heading("Session MITI summary scores", 3),
            Para(
                "Per-session scores from predicted vs gold codes; `partial`: the gold lacks some codes MITI uses, "
                "the score counts only those listed."
            ),
            Table(
                (
                    "score",
                    "sessions",
                    "codes used",
                    "gold mean",
                    "pred mean",
                    "MAE",
                    "Pearson r",
                    "ICC(2,1)",
                    "ICC(3,1)",
                ),
                tuple(
                    (
                        m.score + (" (partial)" if m.partial else ""),
                        str(m.n_sessions),
                        ", ".join(m.codes_used) or "client talk",
                        f3(m.gold_mean),
                        f3(m.pred_mean),
                        f3(m.mae),
                        f3(m.pearson),
                        f3(m.icc_2_1),
                        f3(m.icc_3_1),
                    )
                    for m in r.miti
                ),
            ),
        ]
        b += img(
            plots.plot_miti(
                r.miti_sessions, SCORES, f"{r.name}: MITI scores per session", root / "plots" / f"{slug}_miti.png"
            ),
            "MITI scores",
        )
    if r.human_ceiling:
        h = r.human_ceiling
        b += [
            Heading("Human ceiling", 3),
            Para(
                f"{h.n_sessions} sessions coded by several annotators ({', '.join(h.annotators)}). "
                "Human: every annotator pair; model: the model against every annotator; counts pooled."
            ),
            Table(
                ("task", "metric", "human", "model", "human n", "model n"),
                tuple((c.task, c.metric, f3(c.human), f3(c.model), str(c.human_n), str(c.model_n)) for c in h.rows),
            ),
        ]
    if r.per_topic:
        b += [Heading("Per topic", 3), _breakdown_table(r.per_topic, "topic")]
    if r.per_session:
        b += [Heading("Per session", 3), _breakdown_table(r.per_session, "session")]
    return b


def _comparisons(ev: Evaluation) -> list[Block]:
    if not ev.comparisons:
        return []
    rows = tuple(
        (c.metric, c.system_a, c.system_b, f3(c.a), f3(c.b), ci(c.diff, c.low, c.high), f3(c.p_value), f3(c.a_better))
        for c in ev.comparisons
    )
    return [
        Heading("Paired comparisons"),
        Para(
            f"Paired bootstrap over sessions ({ev.options.n_resamples} resamples, seed {ev.options.seed}): A minus B."
        ),
        Table(("metric", "system A", "system B", "A", "B", "A − B [95% CI]", "p (two-sided)", "share A > B"), rows),
    ]


def _asr(ev: Evaluation) -> list[Block]:
    if not ev.asr:
        return []
    b: list[Block] = [Heading("Audio runs: transcription and speaker attribution")]
    for a in ev.asr:
        s = a.scores
        b += [
            Heading(f"`{a.name}` against `{a.reference}`", 3),
            Para(
                f"WER {f3(s.wer)}; speaker-attribution error {f3(s.speaker_error_rate)} "
                f"(share of aligned words given the wrong role). Normalization: {s.normalization}."
            ),
            Table(
                (
                    "session",
                    "reference",
                    "ref words",
                    "hyp words",
                    "S",
                    "D",
                    "I",
                    "WER",
                    "aligned",
                    "speaker errors",
                    "speaker error rate",
                ),
                tuple(
                    (
                        t.session_id,
                        t.ref_session_id,
                        str(t.ref_words),
                        str(t.hyp_words),
                        str(t.substitutions),
                        str(t.deletions),
                        str(t.insertions),
                        f3(t.wer),
                        str(t.aligned_words),
                        str(t.speaker_errors),
                        f3(t.speaker_error_rate),
                    )
                    for t in s.sessions
                ),
            ),
        ]
    return b


def build_blocks(ev: Evaluation, root: Path) -> tuple[list[Block], list[Path]]:
    """The report's blocks; draws the plots into ``root/plots`` on the way."""
    made: list[Path] = []
    o = ev.options
    ci_text = (
        f"{o.level:.0%} CIs from {o.n_resamples} session bootstrap resamples (seed {o.seed})"
        if o.n_resamples
        else "no bootstrap"
    )
    blocks: list[Block] = [Heading("Evaluation report", 1)]
    if ev.gold:
        blocks.append(
            Para(
                f"Gold: `{ev.gold}` ({ev.n_gold_sessions} sessions). {ci_text}. "
                f"Only labels the gold annotates are scored. tagger {__version__}."
            )
        )
    blocks += [Para(f"Note: {n}") for n in ev.notes]
    if ev.systems:
        blocks += _summary(ev)
        p = plots.plot_code_f1(ev.systems, root / "plots" / "code_f1.png")
        if p is not None:
            made.append(p)
            blocks.append(Image(p.relative_to(root), "per-code F1"))
        blocks += _comparisons(ev)
        for r in ev.systems:
            blocks += _system(r, root, made)
    blocks += _asr(ev)
    return blocks, made


def write_report(ev: Evaluation, folder: str | Path) -> ReportFiles:
    """Write Markdown, HTML, JSON and PNG plots into ``folder`` (created if needed)."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    blocks, made = build_blocks(ev, root)
    md, page, js = root / "report.md", root / "report.html", root / "report.json"
    md.write_text(to_markdown(blocks), encoding="utf-8")
    page.write_text(to_html(blocks, root, "tagger evaluation report"), encoding="utf-8")
    data = {"tagger_version": __version__, **to_dict(ev), "plots": [p.relative_to(root).as_posix() for p in made]}
    js.write_text(json.dumps(data, indent=2, allow_nan=False), encoding="utf-8")
    return ReportFiles(root, md, page, js, tuple(made))
