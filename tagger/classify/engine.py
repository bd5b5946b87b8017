"""Batched inference: sessions in, calibrated scores and tagged utterances out.

Utterances are tokenized and encoded in length-sorted batches (dynamic padding), each distinct
text once, then every session runs through the sequence layer and heads, whose logits are fused with the
lexical (TF-IDF) model's where the artifact has one. Batches span all sessions
of a call, except on ONNX int8, whose dynamic quantization makes a vector depend on its batch
neighbours: there each session is encoded on its own, so its scores never depend on what else was
tagged with it (tests/test_cli_tag.py checks grouping does not change scores).

Long turns are also scored sentence by sentence (the evidence a code cites). A sentence's vector is
the mean of its tokens' states in the turn's own encoding, so evidence costs no second encoder pass;
only the sentences of a turn longer than the encoder's limit are encoded on their own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer

from tagger.classify.artifact import LoadedModel, load_artifact
from tagger.classify.backends import OnnxEncoder, TorchEncoder, cache_dir, export_onnx, onnx_cache_key
from tagger.classify.base_model import weights_digest
from tagger.classify.batching import SessionInputs, encode_all, pad_sessions, session_inputs, tokenize
from tagger.classify.lexical import fuse
from tagger.classify.net import mix_risk
from tagger.classify.risk_terms import explicit_risk
from tagger.classify.spans import sentence_token_spans
from tagger.errors import ModelError
from tagger.segment import Segmenter
from tagger.taxonomy import OTHER, RISK_FLAG
from tagger.types import Session, TaggedUtterance

BACKENDS = ("auto", "torch", "onnx", "onnx-fp32")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class EngineOptions:
    backend: str = "auto"  # auto: CUDA torch (bf16) if a GPU is visible, else ONNX int8 on CPU
    device: str = "auto"
    max_batch: int | None = None  # default: per backend, see batch_limits()
    max_tokens_per_batch: int | None = None
    max_padding: float | None = None  # padding cap as a share of real tokens (default: per backend; inf: none)
    threads: int | None = None
    # Sentences of a split turn (evidence) pooled from the turn's own encoding; False encodes each one on
    # its own as well (1.5x the encoder's tokens on the benchmark archive; eval/bench/bench_sentences.py)
    pooled_sentences: bool = True
    # A client utterance with an explicit, non-denied risk phrase (tagger/classify/risk_terms.py) is
    # flagged risk_indicator even when the model's score is below its threshold; False: the model alone
    risk_terms: bool = True

    def batch_limits(self, backend_name: str) -> tuple[int, int]:
        """(utterances, padded tokens) per encoder batch. On the CPU small batches stay in cache
        (ORT int8: 64 x 1024 tokens ran ~1.5x faster than 256 x 16384); a GPU wants large ones."""
        small = backend_name.startswith("onnx") or backend_name == "torch"
        return (self.max_batch or (64 if small else 512), self.max_tokens_per_batch or (1024 if small else 32768))

    def padding_limit(self, backend_name: str) -> float | None:
        """Padding allowed per CPU batch, as a share of its real tokens. A session encoded on its own
        (ONNX int8) is a few hundred texts of mixed length: capping padding at 10 % ran 11 % faster
        (823 -> 917 utterances/s on 3,000 AnnoMI utterances: eval/bench/bench_padding.py). GPUs want big batches."""
        if self.max_padding is not None:
            return None if self.max_padding == float("inf") else self.max_padding
        return 0.1 if backend_name.startswith("onnx") or backend_name == "torch" else None


@dataclass(frozen=True)
class SessionScores:
    """Calibrated probabilities for one session's utterances (rows in utterance order)."""

    therapist: np.ndarray  # (T, C)
    main: np.ndarray  # (T, 4)
    talk: np.ndarray  # (T, 3)
    risk: np.ndarray  # (T,)


def _softmax(x: torch.Tensor, t: float) -> np.ndarray:
    return torch.softmax(x / t, -1).numpy()


def _sigmoid(x: torch.Tensor, t: float) -> np.ndarray:
    return torch.sigmoid(x / t).numpy()


class Classifier:
    """The shipped (or a user's) intervention classifier. Thread-safe for concurrent ``scores`` calls."""

    def __init__(self, model: LoadedModel, options: EngineOptions = EngineOptions()) -> None:
        self.model = model
        self.config = model.config
        self.options = options
        if options.backend not in BACKENDS:
            raise ModelError(f"unknown backend {options.backend!r}; choose one of {', '.join(BACKENDS)}")
        if options.threads:
            torch.set_num_threads(options.threads)
        self.tokenizer = AutoTokenizer.from_pretrained(str(model.base_dir))
        self.hidden = model.encoder.config.hidden_size
        self.encoder = self._backend(options)
        self.heads = model.heads

    @classmethod
    def load(
        cls,
        model_dir: str | Path | None = None,
        *,
        base_model: str | Path | None = None,
        options: EngineOptions = EngineOptions(),
    ) -> Classifier:
        return cls(load_artifact(model_dir, base_model=base_model), options)

    @property
    def backend_name(self) -> str:
        return getattr(self.encoder, "name", "torch")

    def _backend(self, o: EngineOptions):
        device = o.device
        if device == "auto":  # an explicit ONNX backend means the CPU, GPU or not
            device = "cuda" if torch.cuda.is_available() and not o.backend.startswith("onnx") else "cpu"
        if o.backend == "torch" or (o.backend == "auto" and device == "cuda"):
            return TorchEncoder(self.model.encoder, device)
        if device == "cuda":
            raise ModelError("the ONNX backend runs on the CPU; use --backend torch for CUDA")
        quant = o.backend != "onnx-fp32"
        key = onnx_cache_key(self.model.artifact_dir, weights_digest(self.model.base_dir))
        path = cache_dir() / "onnx" / key / ("encoder.int8.onnx" if quant else "encoder.fp32.onnx")
        if not path.is_file():
            export_onnx(self.model.encoder, path, quantize=quant)
        return OnnxEncoder(path, o.threads or len(os.sched_getaffinity(0)))

    def _encoding_groups(self, sessions: Sequence[Session]) -> list[list[int]]:
        """Flat utterance positions encoded together. All of them, unless the backend's output depends
        on batch neighbours (ONNX int8): then session by session (a session and its sentence split
        share a session id), so a session's scores do not depend on what else is tagged with it."""
        if getattr(self.encoder, "batch_invariant", True):
            return [list(range(sum(len(s.utterances) for s in sessions)))]
        groups: dict[str, list[int]] = {}
        k = 0
        for s in sessions:
            groups.setdefault(s.session_id, []).extend(range(k, k + len(s.utterances)))
            k += len(s.utterances)
        return list(groups.values())

    def _empty(self) -> SessionScores:
        return SessionScores(
            np.zeros((0, len(self.config.therapist_labels))), np.zeros((0, 4)), np.zeros((0, 3)), np.zeros(0)
        )

    def scores(self, sessions: Sequence[Session], progress: Progress | None = None) -> list[SessionScores]:
        """Calibrated probabilities per session, in the order given (empty sessions give empty arrays)."""
        return self._scores(sessions, progress)

    @torch.inference_mode()
    def _scores(
        self,
        sessions: Sequence[Session],
        progress: Progress | None = None,
        spans: Mapping[int, tuple[int, int, int]] | None = None,
    ) -> list[SessionScores]:
        """``spans``: flat utterance positions (over all sessions' utterances, in order) whose vector is
        not encoded but pooled from another position's token states: ``{row: (source row, start, stop)}``
        with the source in the same session id."""
        sessions = list(sessions)
        spans = spans or {}
        if any(not s.utterances for s in sessions):  # empty sessions hold no rows: positions are unchanged
            full = iter(self._scores([s for s in sessions if s.utterances], progress, spans))
            return [next(full) if s.utterances else self._empty() for s in sessions]
        texts = [u.text for s in sessions for u in s.utterances]
        if not texts:
            return []
        ids: list[np.ndarray] = [np.zeros(0, np.int64)] * len(texts)
        pooled = torch.zeros((len(texts), self.hidden))
        groups = self._encoding_groups(sessions)
        total = sum(len({texts[i] for i in g if i not in spans}) for g in groups)
        done = [0]

        def encode(i: np.ndarray, m: np.ndarray, asked: Sequence[tuple[int, int, int]] = ()) -> torch.Tensor:
            out = self.encoder(i, m, asked)
            done[0] += len(i)
            if progress:
                progress(done[0], total)
            return out

        max_batch, max_tokens = self.options.batch_limits(self.backend_name)
        for g in groups:
            # Each distinct text is encoded once: sessions repeat short turns ("Yeah.", "Mm-hmm."), and
            # tag_sessions scores whole turns and their sentence split together, sharing the unsplit ones.
            first: dict[str, int] = {}
            encoded = [i for i in g if i not in spans]
            which = np.fromiter((first.setdefault(texts[i], len(first)) for i in encoded), np.int64, len(encoded))
            unique = dict(zip(encoded, which.tolist(), strict=True))
            pooled_rows = [i for i in g if i in spans]
            unique_ids = tokenize(self.tokenizer, list(first), self.config.max_tokens)
            vecs = encode_all(
                encode,
                unique_ids,
                self.hidden,
                max_batch=max_batch,
                max_tokens_per_batch=max_tokens,
                max_padding=self.options.padding_limit(self.backend_name),
                spans=[(unique[spans[i][0]], spans[i][1], spans[i][2]) for i in pooled_rows],
            )
            vecs = vecs.cpu()  # on CUDA: the one device -> host copy (and wait) of the group
            pooled[torch.from_numpy(np.asarray(encoded, np.int64))] = vecs[torch.from_numpy(which)].float()
            if pooled_rows:
                pooled[torch.tensor(pooled_rows)] = vecs[len(first) :].float()
            for i, j in zip(encoded, which, strict=True):
                ids[i] = unique_ids[j]
            for i in pooled_rows:
                src, a, b = spans[i]
                ids[i] = unique_ids[unique[src]][a:b]
        inputs, starts, k = [], [], 0
        for s in sessions:
            n = len(s.utterances)
            inputs.append(
                session_inputs(ids[k : k + n], [u.text for u in s.utterances], [u.speaker for u in s.utterances])
            )
            starts.append(k)
            k += n
        t = self.config.temperatures
        out = [self._empty()] * len(sessions)
        # sessions of similar length share a heads batch, so the GRU does not run over padding
        by_length = sorted(range(len(sessions)), key=lambda j: len(inputs[j].ids))
        for b in range(0, len(by_length), 64):
            chunk = by_length[b : b + 64]
            block = torch.cat([pooled[starts[j] : starts[j] + len(inputs[j].ids)] for j in chunk])
            cur, prev, feats, lengths = pad_sessions(block, [inputs[j] for j in chunk])
            logits = mix_risk(self.heads(cur, prev, feats, lengths), self.config.risk_mix)
            lexical = self._lexical([sessions[j] for j in chunk], [inputs[j] for j in chunk])
            offset = 0
            for r, j in enumerate(chunk):
                n = len(inputs[j].ids)
                z = {h: v[r, :n] for h, v in logits.items()}
                if lexical is not None:
                    lex = {h: torch.from_numpy(v[offset : offset + n]).to(z[h].dtype) for h, v in lexical.items()}
                    z = fuse(z, lex, self.config.fusion)
                offset += n
                out[j] = SessionScores(
                    therapist=_sigmoid(z["therapist"], t.get("therapist", 1.0)),
                    main=_softmax(z["main"], t.get("main", 1.0)),
                    talk=_softmax(z["talk"], t.get("talk", 1.0)),
                    risk=_sigmoid(z["risk"], t.get("risk", 1.0)),
                )
        return out

    def _lexical(self, sessions: Sequence[Session], inputs: Sequence[SessionInputs]) -> dict[str, np.ndarray] | None:
        """The fused lexical model's logits for these sessions' utterances, concatenated in order (with
        the previous-turn indices and dialogue features the network's inputs already hold)."""
        if self.model.lexical is None:
            return None
        return self.model.lexical.session_logits(
            [([u.text for u in s.utterances], [u.speaker for u in s.utterances]) for s in sessions],
            [(x.prev, x.feats) for x in inputs],
        )

    def tag_sessions(
        self, sessions: Sequence[Session], progress: Progress | None = None, segmenter: Segmenter | None = None
    ) -> list[list[TaggedUtterance]]:
        """Tag every utterance. With a ``segmenter``, long turns are also scored sentence by sentence:
        each predicted code keeps the sentence that carries it as evidence, and a turn longer than
        the encoder's token limit takes the maximum over its sentences (its tail is not lost)."""
        sessions = list(sessions)
        if segmenter is None:
            return [self.decide(s, sc) for s, sc in zip(sessions, self.scores(sessions, progress), strict=True)]
        segmented = [segmenter(s) for s in sessions]
        need = [
            i
            for i, (a, b) in enumerate(zip(sessions, segmented, strict=True))
            if len(a.utterances) != len(b.utterances)
        ]
        # one call: the sentence-split sessions' unsplit turns reuse the whole turns' encodings, and the
        # sentences of a turn that fits the encoder are pooled from that turn's token states
        spans = self._sentence_spans(sessions, segmented, need) if self.options.pooled_sentences else {}
        both = self._scores(sessions + [segmented[i] for i in need], progress, spans)
        turn_scores = both[: len(sessions)]
        seg_scores = dict(zip(need, both[len(sessions) :], strict=True))
        out = []
        for i, (s, sc) in enumerate(zip(sessions, turn_scores, strict=True)):
            if i not in seg_scores:
                out.append(self.decide(s, sc))
                continue
            rows: dict[str, list[int]] = {}
            for r, u in enumerate(segmented[i].utterances):
                if u.parent_id is not None:
                    rows.setdefault(u.parent_id, []).append(r)
            out.append(self.decide(s, sc, (segmented[i], seg_scores[i], rows)))
        return out

    def _sentence_spans(
        self, sessions: Sequence[Session], segmented: Sequence[Session], need: Sequence[int]
    ) -> dict[int, tuple[int, int, int]]:
        """For ``_scores(sessions + [segmented[i] for i in need])``: each sentence of a turn that fits the
        encoder, pooled over its tokens in the turn's own encoding (``{row: (turn row, start, stop)}``).
        A turn longer than the encoder's limit, or whose sentences cannot be found in it token by
        token, keeps its sentences encoded on their own (the limit's tail then still counts)."""
        starts = np.cumsum([0, *(len(s.utterances) for s in sessions)])
        row = int(starts[-1])
        found: list[tuple[int, str, list[tuple[int, str]]]] = []  # (turn row, turn text, [(sentence row, text)])
        for i in need:
            turn_row = {u.utterance_id: int(starts[i]) + k for k, u in enumerate(sessions[i].utterances)}
            texts = {u.utterance_id: u.text for u in sessions[i].utterances}
            parts: dict[str, list[tuple[int, str]]] = {}
            for k, u in enumerate(segmented[i].utterances):
                if u.parent_id is not None:
                    parts.setdefault(u.parent_id, []).append((row + k, u.text))
            found.extend((turn_row[p], texts[p], sents) for p, sents in parts.items())
            row += len(segmented[i].utterances)
        if not found:
            return {}
        enc = self.tokenizer(
            [text for _, text, _ in found], add_special_tokens=True, return_offsets_mapping=True, truncation=False
        )
        out: dict[int, tuple[int, int, int]] = {}
        for (turn, text, sents), ids, offsets in zip(found, enc["input_ids"], enc["offset_mapping"], strict=True):
            if len(ids) > self.config.max_tokens:
                continue
            spans = sentence_token_spans(text, [t for _, t in sents], offsets)
            if spans is not None:
                out.update((r, (turn, a, b)) for (r, _), (a, b) in zip(sents, spans, strict=True))
        return out

    def _truncated(self, text: str) -> bool:
        return len(self.tokenizer(text, truncation=False)["input_ids"]) > self.config.max_tokens

    def decide(
        self,
        session: Session,
        sc: SessionScores,
        segments: tuple[Session, SessionScores, dict[str, list[int]]] | None = None,
    ) -> list[TaggedUtterance]:
        """Apply thresholds: therapist codes (``other`` when none pass), client talk type and risk flag."""
        cfg = self.config
        if segments is not None:
            sc = SessionScores(sc.therapist.copy(), sc.main, sc.talk, sc.risk.copy())
            seg_session, seg_sc, rows = segments
            for i, u in enumerate(session.utterances):
                r = rows.get(u.utterance_id)
                if r and self._truncated(u.text):
                    sc.therapist[i] = np.maximum(sc.therapist[i], seg_sc.therapist[r].max(0))
                    sc.risk[i] = max(sc.risk[i], seg_sc.risk[r].max())
        labels = cfg.therapist_labels
        thr = np.array([cfg.thresholds.get(c, 0.5) for c in labels])
        margin = cfg.review_margin
        risk_thr = cfg.thresholds.get(RISK_FLAG, 0.5)
        out = []
        for i, u in enumerate(session.utterances):
            if u.speaker == "therapist":
                p = sc.therapist[i]
                hit = np.flatnonzero(p >= thr)
                hit = hit[np.argsort(-p[hit])]
                codes = tuple(labels[j] for j in hit) or (OTHER,)
                review = tuple(labels[j] for j in hit if p[j] < thr[j] + margin)
                scores = {c: float(p[j]) for j, c in enumerate(labels)}
                evidence = {}
                r = segments[2].get(u.utterance_id) if segments else None
                if r and codes != (OTHER,):
                    seg = segments[0].utterances
                    evidence = {c: seg[r[int(segments[1].therapist[r, labels.index(c)].argmax())]].text for c in codes}
                out.append(
                    TaggedUtterance(
                        u,
                        codes,
                        scores,
                        main_behaviour=cfg.main_labels[int(sc.main[i].argmax())],
                        evidence=evidence,
                        review=review,
                    )
                )
            else:
                talk = cfg.talk_labels[int(sc.talk[i].argmax())]
                risk = bool(sc.risk[i] >= risk_thr)
                scores = {c: float(v) for c, v in zip(cfg.talk_labels, sc.talk[i], strict=True)}
                scores[RISK_FLAG] = float(sc.risk[i])
                review = (RISK_FLAG,) if abs(float(sc.risk[i]) - risk_thr) < margin else ()
                r = segments[2].get(u.utterance_id) if segments else None
                evidence = (
                    {RISK_FLAG: segments[0].utterances[r[int(segments[1].risk[r].argmax())]].text} if r and risk else {}
                )
                phrase = explicit_risk(u.text) if self.options.risk_terms and not risk else None
                if phrase is not None:  # the score stays the model's; the evidence is the phrase
                    risk, review, evidence = True, (), {RISK_FLAG: phrase}
                out.append(
                    TaggedUtterance(
                        u,
                        (talk, RISK_FLAG) if risk else (talk,),
                        scores,
                        client_talk=talk,
                        risk_indicator=risk,
                        evidence=evidence,
                        review=review,
                    )
                )
        return out
