"""Labels -> structured :class:`Note` (SOAP, DAP or BIRP), every claim tied to utterances.

Nothing is invented: statements are derived from the labels and quotes of the transcript;
what a session cannot show (diagnosis, treatment-plan goals, mental status) is an explicit
``[clinician to complete]`` field.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path

import tagger
from tagger.errors import InputError
from tagger.note.evidence import cite, has_code, strongest, therapist_codes
from tagger.note.measures import find_measures
from tagger.note.miti import miti_summary
from tagger.note.response import (
    FAMILY_ORDER,
    engagement,
    engagement_statement,
    family_title,
    response_statements,
    talk_statements,
)
from tagger.note.risk import risk_statements
from tagger.note.types import (
    CLINICIAN,
    NOTE_FORMATS,
    Note,
    NoteHeader,
    Section,
    Statement,
    TranscriptLine,
    where,
)
from tagger.taxonomy import OTHER, load_taxonomy
from tagger.types import TaggedUtterance

#: What each documentation verb acts on ("Reframed" + "unhelpful thoughts or beliefs").
COMPLEMENTS: dict[str, str] = {
    "open_question": "the client's experience with open questions",
    "closed_question": "closed questions",
    "simple_reflection": "the client's statements (simple reflections)",
    "complex_reflection": "meaning or feeling beyond the client's words (complex reflections)",
    "summary": "what the client said",
    "affirmation": "the client's strengths, efforts or values",
    "seeking_collaboration": "with the client: asked permission or invited the client's ideas",
    "emphasizing_autonomy": "by emphasizing the client's choice and control",
    "giving_information": "",
    "advice": "a course of action",
    "confrontation": "the client (MI-inconsistent; for supervision)",
    "cognitive_restructuring": "unhelpful thoughts or beliefs (cognitive restructuring)",
    "behavioral_activation": "(planning or reviewing rewarding or valued activities)",
    "exposure": "",
    "homework": "or reviewed between-session practice",
    "psychoeducation": "the client about symptoms, conditions or how treatment works",
    "agenda_setting": "for the session",
    "problem_solving": "",
    "mindfulness": "practice",
    "relaxation_breathing": "or breathing techniques",
    "grounding": "",
    "distress_tolerance": "skills",
    "emotion_regulation": "skills",
    "interpersonal_effectiveness": "",
    "acceptance_defusion": "",
    "values_clarification": "",
    "exploring_past": "(linked present patterns to past experience)",
    "interpretation": "a possible underlying pattern",
    "validation": "the client's feelings and reactions",
    "normalization": "the client's experience",
    "self_disclosure": "",
    "risk_assessment": "(asked about suicidal thoughts, self-harm, harm to others or safety)",
    "safety_planning": "",
    "goal_setting": "",
    "measurement_review": "",
    "referral": "with other services or supports",
}
PLAN_ITEMS: tuple[tuple[str, str], ...] = (
    ("homework", "Homework / between-session practice"), ("goal_setting", "Goals discussed in session"),
    ("referral", "Referrals and coordination"), ("safety_planning", "Safety plan items"),
)
MAX_PLAN_ITEMS = 6


def _plural(n: int, word: str = "utterance") -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def intervention_statements(items: Sequence[TaggedUtterance]) -> list[Statement]:
    """One statement per code used, grouped by family, with 1-3 evidence quotes each."""
    tax = load_taxonomy()
    out = []
    fams = sorted({c.family for c in tax.therapist if c.id != OTHER},
                  key=lambda f: (FAMILY_ORDER.index(f) if f in FAMILY_ORDER else 99, f))
    for fam in fams:
        for code in (c for c in tax.therapist if c.family == fam and c.id != OTHER):
            carriers = [t for t in items if has_code(t, code.id)]
            if not carriers:
                continue
            ev = strongest(carriers, code.id, 3)
            n_review = sum(code.id in t.review for t in carriers)
            comp = COMPLEMENTS.get(code.id, "")
            label = code.id.replace("_", " ")
            review_note = f"; {n_review} of {len(carriers)} near threshold, review" if n_review else ""
            text = f"{code.verb}{' ' + comp if comp else ''} — {label}, {_plural(len(carriers))}{review_note}."
            out.append(Statement(text, "intervention", f"Interventions: {family_title(fam)}", (code.id,), tuple(ev),
                                 family=fam, count=len(carriers), review=n_review == len(carriers)))
    if not out:
        out.append(Statement("No interventions were labelled in this session.", "info", "Interventions"))
    return out


def measure_statements(items: Sequence[TaggedUtterance], group: str = "Standardized measures and ratings"
                       ) -> list[Statement]:
    by_id = {t.utterance.utterance_id: t for t in items}
    out = []
    for f in find_measures(items):
        ev = tuple(cite(by_id[u], "measurement_review" if has_code(by_id[u], "measurement_review") else None)
                   for u in f.utterance_ids[:3])
        if f.value is not None:
            val = f"{f.value:g}"
            was = f"; previously {f.previous:g}" if f.previous is not None else ""
            text = f"{f.label}: {val} (range {f.low}–{f.high}{was}), as stated in session."
        else:
            text = f"{f.label} mentioned; no value stated in the transcript."
        out.append(Statement(text, "measure", group, evidence=ev))
    if not out:
        out.append(Statement("No standardized measure or 0-10 rating was mentioned.", "info", group))
    return out


def plan_statements(items: Sequence[TaggedUtterance]) -> list[Statement]:
    """Homework, goals, referrals and safety-plan items: one statement per utterance, quoted."""
    tax = load_taxonomy()
    out = []
    for code, group in PLAN_ITEMS:
        carriers = [t for t in items if has_code(t, code)]
        c = tax.code(code)
        what = f"{c.verb}{' ' + COMPLEMENTS[code] if COMPLEMENTS.get(code) else ''}"
        for t in carriers[:MAX_PLAN_ITEMS]:
            e = cite(t, code)
            out.append(Statement(f"{what} ({where(e.utterance_id, e.start)}):", "plan", group,
                                 (code,), (e,), family=c.family, review=e.review))
        if len(carriers) > MAX_PLAN_ITEMS:
            extra = carriers[MAX_PLAN_ITEMS:]
            out.append(Statement(f"{_plural(len(extra))} more labelled {code.replace('_', ' ')} (see transcript).",
                                 "plan", group, (code,), (cite(extra[0], code),), count=len(extra), family=c.family))
    out.append(Statement(f"Treatment-plan goals addressed: {CLINICIAN}", "placeholder", "Treatment plan"))
    out.append(Statement(f"Next appointment and follow-up: {CLINICIAN}", "placeholder", "Treatment plan"))
    return out


def _placeholder(what: str, group: str) -> Statement:
    return Statement(f"{what}: {CLINICIAN}", "placeholder", group)


def miti_statements(items: Sequence[TaggedUtterance]) -> tuple[list[Statement], dict[str, object]]:
    m = miti_summary(items)
    g = "MITI 4.2.1 summary scores (research / supervision)"

    def fmt(v: float | None, pct: bool) -> str:
        return "n/a" if v is None else (f"{v:.0%}" if pct else f"{v:.2f}")

    rows = [
        f"R:Q (reflections / questions) = {fmt(m.r_q, False)}" + (f" ({m.band('r_q')})" if m.band("r_q") else ""),
        f"%CR (complex / all reflections) = {fmt(m.pct_cr, True)}"
        + (f" ({m.band('pct_cr')})" if m.band("pct_cr") else ""),
        f"MI-adherent behaviours = {m.mi_adherent}",
        f"MI-non-adherent behaviours = {m.mi_non_adherent}",
        f"% change talk = {fmt(m.pct_change_talk, True)}",
    ]
    out = [Statement(r + ".", "miti", g) for r in rows]
    by_id = {t.utterance.utterance_id: t for t in items}
    for code, ids in (("confrontation", m.confrontations), ("advice", m.advice_without_permission)):
        if ids:
            what = "Confrontation" if code == "confrontation" else "Advice without permission"
            out.append(Statement(f"{what}: {_plural(len(ids))} (MI-non-adherent).", "intervention", g, (code,),
                                 tuple(cite(by_id[i], code) for i in ids[:3]), family="mi", count=len(ids)))
    out.append(Statement("Scores are computed from automatic labels, not from a trained MITI coder; thresholds "
                         "(fair / good): R:Q ≥ 1 / ≥ 2, %CR ≥ 40% / ≥ 50%.", "info", g))
    return out, m.to_dict()


def code_count_statement(items: Sequence[TaggedUtterance]) -> Statement:
    counts: dict[str, int] = {}
    for t in items:
        for c in therapist_codes(t):
            counts[c] = counts.get(c, 0) + 1
    n_review = sum(bool(t.review) for t in items)
    listing = ", ".join(f"{c} {n}" for c, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))) or "none"
    return Statement(f"Therapist code counts: {listing}. Utterances with a label near threshold (review): "
                     f"{n_review}.", "info", "Label summary")


def _compose(fmt: str, blocks: dict[str, list[Statement]]) -> tuple[Section, ...]:
    b = blocks
    mse = [_placeholder("Mental status observations (appearance, affect, orientation)", "Mental status")]
    dx = [_placeholder("Diagnosis", "Diagnosis and clinical impression"),
          _placeholder("Clinical impression and progress toward treatment goals", "Diagnosis and clinical impression")]
    concern = [_placeholder("Presenting concerns in the client's words", "Client statements")]
    if fmt == "soap":
        return (Section("S", "Subjective", tuple(concern + b["talk"])),
                Section("O", "Objective", tuple(b["interventions"] + b["measures"] + b["engagement"] + mse)),
                Section("A", "Assessment", tuple(b["response"] + b["risk"] + dx)),
                Section("P", "Plan", tuple(b["plan"])))
    if fmt == "dap":
        return (Section("D", "Data", tuple(concern + b["talk"] + b["interventions"] + b["measures"] + b["engagement"]
                                           + mse)),
                Section("A", "Assessment", tuple(b["response"] + b["risk"] + dx)),
                Section("P", "Plan", tuple(b["plan"])))
    if fmt == "birp":
        behavior = concern + b["talk"] + b["measures"] + b["engagement"] + mse + b["risk"]
        return (Section("B", "Behavior", tuple(behavior)),
                Section("I", "Intervention", tuple(b["interventions"])),
                Section("R", "Response", tuple(b["response"] + dx)),
                Section("P", "Plan", tuple(b["plan"])))
    raise InputError(f"unknown note format {fmt!r}; choose one of {', '.join(NOTE_FORMATS)}")


def build_note(
    tagged: Sequence[TaggedUtterance],
    fmt: str = "soap",
    *,
    source: str | Path | None = None,
    model: str | None = None,
    deidentified: bool = False,
    drafted_at: str | None = None,
) -> Note:
    """Draft a note of one session from its tagged utterances (in spoken order).

    ``model`` names the model (and version) that produced the labels; ``source`` the file
    they came from. Raises :class:`InputError` for an empty or multi-session input.
    """
    if fmt not in NOTE_FORMATS:
        raise InputError(f"unknown note format {fmt!r}; choose one of {', '.join(NOTE_FORMATS)}")
    if not tagged:
        raise InputError("no tagged utterances: the note needs at least one utterance")
    sids = {t.utterance.session_id for t in tagged}
    if len(sids) != 1:
        raise InputError(f"build_note takes one session, got {len(sids)} ({', '.join(sorted(sids)[:5])}); "
                         "split them with tagger.note.split_sessions")
    items = list(tagged)
    risk, alerts = risk_statements(items)
    eng = engagement(items)
    blocks = {
        "talk": talk_statements(items),
        "interventions": intervention_statements(items),
        "measures": measure_statements(items),
        "engagement": [engagement_statement(eng)],
        "response": response_statements(items),
        "risk": risk,
        "plan": plan_statements(items),
    }
    miti, miti_d = miti_statements(items)
    appendix = Section("appendix", "Appendix: research and supervision", tuple(miti + [code_count_statement(items)]))
    header = NoteHeader(
        session_id=items[0].utterance.session_id,
        source=None if source is None else str(source),
        model=model,
        tagger_version=tagger.__version__,
        drafted_at=drafted_at or _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        deidentified=deidentified,
    )
    transcript = tuple(TranscriptLine(t.utterance.utterance_id, t.utterance.speaker, t.utterance.text,
                                      t.utterance.start, tuple(t.codes), tuple(t.review)) for t in items)
    return Note(format=fmt, header=header,  # type: ignore[arg-type]
                alerts=Section("alerts", "Risk alert", tuple(alerts)) if alerts else None,
                sections=_compose(fmt, blocks), appendix=appendix, transcript=transcript,
                metrics={"miti": miti_d, "engagement": eng.to_dict()})


def split_sessions(tagged: Sequence[TaggedUtterance]) -> dict[str, list[TaggedUtterance]]:
    """Tagged utterances by session id, sessions and utterances in input order."""
    out: dict[str, list[TaggedUtterance]] = {}
    for t in tagged:
        out.setdefault(t.utterance.session_id, []).append(t)
    return out
