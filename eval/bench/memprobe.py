"""Peak memory of one audio step on a whole recording, for ``bench_scaling.stage_memory``.

    python eval/bench/memprobe.py {decode,features,vad,diarize} RECORDING

Run it under GNU time (``machine.run_measured``) for the peak RSS: its own ``ru_maxrss`` would
include the high-water mark of whatever process started it. ``features`` is faster-whisper's log-Mel
front end over the whole file, as ``WhisperModel.transcribe`` runs it in sequential mode; ``vad``
is its Silero VAD; ``diarize`` is our voice diarization on a synthetic grid of one word every
0.4 s (no ASR needed, similar word density to speech).
"""

from __future__ import annotations

import sys


def main() -> None:
    stage, path = sys.argv[1], sys.argv[2]
    from tagger.audio.decode import decode_audio

    audio = decode_audio(path).mono()
    if stage == "features":
        from faster_whisper.feature_extractor import FeatureExtractor

        FeatureExtractor()(audio)
    elif stage == "vad":
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        get_speech_timestamps(audio, VadOptions())
    elif stage == "diarize":
        from tagger.audio.asr import Word
        from tagger.audio.diarize import diarize_voices
        from tagger.audio.embed import SpeakerEncoder

        words = [Word(i * 0.4, i * 0.4 + 0.3, " w", 0.9) for i in range(int(len(audio) / 16000 / 0.4))]
        diarize_voices(audio, words, speaker_range=(2, 4), encoder=SpeakerEncoder(device="cpu"))
    elif stage != "decode":
        raise SystemExit(f"unknown stage {stage!r}")


if __name__ == "__main__":
    main()
