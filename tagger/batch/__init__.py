"""Batch annotation of transcript and recording archives: resumable, with local and Ray engines.

``run_batch(BatchOptions(input, outdir))`` is what ``tagger batch`` calls; see
:mod:`tagger.batch.runner` for the stages and :mod:`tagger.batch.outputs` for the files.
"""

from tagger.batch.runner import BatchOptions, BatchReport, run_batch

__all__ = ["BatchOptions", "BatchReport", "run_batch"]
