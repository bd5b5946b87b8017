"""Frozen result types of an evaluation, and their JSON form (``report.json``).

Undefined numbers are ``None`` (JSON ``null``), never ``NaN``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from tagger.evaluation.bootstrap import PairedComparison
from tagger.evaluation.calibration import Calibration
from tagger.evaluation.metrics import LabelScore
from tagger.evaluation.miti import ScoreAgreement, SessionMiti
from tagger.evaluation.wer import AsrScores


@dataclass(frozen=True)
class EvalOptions:
    """Settings of one evaluation; echoed in the report."""

    n_resamples: int = 1000  # bootstrap resamples (0: no confidence intervals)
    seed: int = 13
    level: float = 0.95
    n_bins: int = 10  # calibration bins

    def __post_init__(self) -> None:
        if self.n_resamples < 0:
            raise ValueError("n_resamples must be >= 0")
        if not 0 < self.level < 1:
            raise ValueError("level must be in (0, 1), e.g. 0.95")
        if self.n_bins < 1:
            raise ValueError("n_bins must be >= 1")


@dataclass(frozen=True)
class Average:
    """Micro and macro averages over one group of codes (``therapist`` or ``client``)."""

    group: str
    n_codes: int  # codes in the macro average (present in gold or prediction)
    micro_precision: float | None
    micro_recall: float | None
    micro_f1: float | None
    macro_f1: float | None
    micro_f1_low: float | None = None
    micro_f1_high: float | None = None
    macro_f1_low: float | None = None
    macro_f1_high: float | None = None


@dataclass(frozen=True)
class ClassTask:
    """A single-label task (AnnoMI 4-way main behaviour, client talk type)."""

    task: str
    labels: tuple[str, ...]  # confusion matrix rows (gold) and columns (prediction)
    confusion: tuple[tuple[int, ...], ...]
    per_class: tuple[LabelScore, ...]
    n: int
    missing: int  # utterances with no predicted label
    accuracy: float | None
    kappa: float | None
    macro_f1: float | None
    macro_f1_low: float | None = None
    macro_f1_high: float | None = None


@dataclass(frozen=True)
class Breakdown:
    """Headline scores of one session or topic."""

    key: str
    n_sessions: int
    n_utterances: int
    therapist_micro_f1: float | None
    therapist_macro_f1: float | None
    main_accuracy: float | None
    main_macro_f1: float | None
    talk_macro_f1: float | None


@dataclass(frozen=True)
class CeilingRow:
    """One agreement metric: between human annotators, and between the model and annotators."""

    task: str
    metric: str
    human: float | None
    model: float | None
    human_n: int  # items compared, pooled over annotator pairs
    model_n: int


@dataclass(frozen=True)
class HumanCeiling:
    n_sessions: int
    annotators: tuple[str, ...]
    rows: tuple[CeilingRow, ...]


@dataclass(frozen=True)
class SystemResult:
    """Everything measured for one prediction set."""

    name: str
    source: str
    n_sessions: int
    n_utterances: int
    speaker_mismatches: int
    therapist_codes: tuple[LabelScore, ...]
    client_codes: tuple[LabelScore, ...]
    averages: tuple[Average, ...]
    main_behaviour: ClassTask | None
    client_talk: ClassTask | None
    calibration: tuple[Calibration, ...]
    miti: tuple[ScoreAgreement, ...]
    miti_sessions: tuple[SessionMiti, ...]
    per_session: tuple[Breakdown, ...]
    per_topic: tuple[Breakdown, ...]
    human_ceiling: HumanCeiling | None = None


@dataclass(frozen=True)
class AsrResult:
    """WER and speaker attribution of one audio run against a reference transcript."""

    name: str
    reference: str
    scores: AsrScores


@dataclass(frozen=True)
class Evaluation:
    """The whole evaluation: gold, options, one result per system, paired comparisons, audio runs."""

    gold: str | None
    n_gold_sessions: int
    options: EvalOptions
    systems: tuple[SystemResult, ...]
    comparisons: tuple[PairedComparison, ...] = ()
    asr: tuple[AsrResult, ...] = ()
    notes: tuple[str, ...] = ()


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


def to_dict(result: Any) -> Any:
    """JSON-ready dict of any result dataclass (NaN becomes None)."""
    return _clean(dataclasses.asdict(result))
