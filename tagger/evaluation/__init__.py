"""Research evaluation harness behind ``tagger eval``.

    from tagger.evaluation import evaluate, read_predictions, write_report
    from tagger.io.labeled import read_labeled

    ev = evaluate(read_labeled("AnnoMI-full.csv"), {"model": read_predictions("pred.jsonl")})
    write_report(ev, "reports/annomi")

Modules, in data-flow order: ``align`` (predictions to gold), ``tables`` (per-session counts),
``metrics`` / ``agreement`` / ``calibration`` / ``miti`` / ``wer`` (pure metric functions),
``bootstrap`` (session resampling), ``ceiling`` (inter-annotator agreement), ``harness``
(orchestration), ``results`` (frozen result types), ``plots`` / ``render`` / ``report`` (output).
"""

from tagger.evaluation.align import AlignmentError, align, read_predictions
from tagger.evaluation.harness import evaluate, score_system
from tagger.evaluation.report import write_report
from tagger.evaluation.results import EvalOptions, Evaluation, SystemResult, to_dict

__all__ = [
    "AlignmentError",
    "EvalOptions",
    "Evaluation",
    "SystemResult",
    "align",
    "evaluate",
    "read_predictions",
    "score_system",
    "to_dict",
    "write_report",
]
