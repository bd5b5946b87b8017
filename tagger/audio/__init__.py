"""Audio to role-attributed transcript: decode (PyAV), ASR (faster-whisper), diarization
(resemblyzer voice embeddings + clustering), speaker roles (text role model).

The entry point is :func:`tagger.audio.transcribe.transcribe`.
"""

import logging

# A library attaches no handlers of its own; this only keeps Python's last-resort handler
# from printing our warnings, which callers get on the result (``TranscriptionInfo.warnings``).
logging.getLogger(__name__).addHandler(logging.NullHandler())

from tagger.audio.options import TranscribeOptions  # noqa: E402
from tagger.audio.transcribe import SpeakerInfo, TranscriptionInfo, transcribe  # noqa: E402

__all__ = ["SpeakerInfo", "TranscribeOptions", "TranscriptionInfo", "transcribe"]
