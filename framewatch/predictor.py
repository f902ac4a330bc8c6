"""Scoring sentences with a trained checkpoint.

The :class:`Predictor` knows nothing of HTTP or files: it turns a list of
sentences into per-label sigmoid scores and thresholded labels. ``framewatch
predict``, the evaluator and the server all call it, so a sentence gets the same
answer everywhere.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from framewatch.checkpoint import CheckpointMetadata, load_metadata, load_reference_outputs, verify_manifest
from framewatch.errors import CheckpointError, InputError
from framewatch.thresholds import decide, threshold_row

__all__ = ["BF16_TOLERANCE", "Prediction", "Predictor", "resolve_device", "to_predictions"]

logger = logging.getLogger(__name__)

BF16_TOLERANCE = 0.01
"""Largest absolute score difference from the stored fp32 reference that bf16 may show."""


@dataclass(frozen=True)
class Prediction:
    """Scores for one sentence and the labels whose score reaches its threshold."""

    labels: list[str]
    scores: dict[str, float]


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise CheckpointError("device 'cuda' requested but no CUDA device is available")
    return torch.device(device)


def _hardware_bf16(device: torch.device) -> bool:
    """bf16 pays off on GPUs that support it and on CPUs with AMX or AVX512-BF16; elsewhere it is emulated."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    probes = [getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")]
    return any(probe is not None and probe() for probe in probes)


class Predictor:
    """A loaded checkpoint that scores lists of sentences.

    Batches are formed from length-sorted input and padded to their longest
    member, so short sentences do not pay for long ones.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer,
        metadata: CheckpointMetadata,
        *,
        device: torch.device,
        dtype: str = "fp32",
        batch_size: int = 64,
        dtype_reason: str = "",
    ):
        self.model = model.eval().to(device)
        self.tokenizer = tokenizer
        self.metadata = metadata
        self.device = device
        self.dtype = dtype
        self.dtype_reason = dtype_reason
        self.batch_size = batch_size
        self.label_ids = metadata.label_ids
        self.thresholds = threshold_row(metadata.thresholds, self.label_ids)

    @classmethod
    def from_checkpoint(
        cls,
        directory: str | Path,
        *,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 64,
        verify: bool = True,
    ) -> Predictor:
        """Load a checkpoint, verifying its files first when ``verify`` is set.

        ``dtype="auto"`` picks bf16 only where the hardware runs it natively
        and the checkpoint's stored fp32 reference scores are reproduced within
        :data:`BF16_TOLERANCE`; otherwise fp32.
        """
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        directory = Path(directory)
        metadata = load_metadata(directory)
        if verify:
            verify_manifest(directory)
        torch_device = resolve_device(device)
        try:
            tokenizer = AutoTokenizer.from_pretrained(directory)
            model = AutoModelForSequenceClassification.from_pretrained(directory, dtype=torch.float32)
        except (OSError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{directory}: cannot load model: {exc}") from exc
        predictor = cls(model, tokenizer, metadata, device=torch_device, dtype="fp32", batch_size=batch_size)
        predictor._choose_dtype(dtype, directory)
        return predictor

    def _choose_dtype(self, requested: str, directory: Path) -> None:
        if requested == "fp32":
            self.dtype, self.dtype_reason = "fp32", "requested"
            return
        if requested == "bf16":
            self.dtype, self.dtype_reason = "bf16", "requested"
            return
        if not _hardware_bf16(self.device):
            self.dtype, self.dtype_reason = "fp32", f"no native bf16 on {self.device.type}"
            return
        reference = load_reference_outputs(directory)
        if reference is None or not reference.texts:
            self.dtype, self.dtype_reason = "fp32", "no reference outputs to validate bf16"
            return
        self.dtype = "bf16"
        drift = float(np.max(np.abs(self.score(reference.texts) - np.asarray(reference.scores, dtype=np.float32))))
        if drift <= BF16_TOLERANCE:
            self.dtype_reason = f"bf16 within {drift:.4f} of fp32 reference"
        else:
            self.dtype, self.dtype_reason = "fp32", f"bf16 drifted {drift:.4f} > {BF16_TOLERANCE} from fp32"
        logger.info("dtype %s: %s", self.dtype, self.dtype_reason)

    @property
    def max_length(self) -> int:
        return self.metadata.max_length

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _batches(self, order: np.ndarray) -> Iterator[np.ndarray]:
        for start in range(0, len(order), self.batch_size):
            yield order[start : start + self.batch_size]

    @torch.inference_mode()
    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Sigmoid scores, shape ``(len(texts), n_labels)``, in input order."""
        if isinstance(texts, str):
            raise InputError("score() takes a list of sentences, not one string")
        for text in texts:
            if not isinstance(text, str) or not text.strip():
                raise InputError("every text must be a non-empty string")
        scores = np.zeros((len(texts), len(self.label_ids)), dtype=np.float32)
        if not texts:
            return scores
        order = np.argsort([len(t) for t in texts], kind="stable")
        for batch in self._batches(order):
            encoded = self.tokenizer(
                [texts[i] for i in batch],
                padding="longest",
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)
            with self._autocast():
                logits = self.model(**encoded).logits
            scores[batch] = torch.sigmoid(logits.float()).cpu().numpy()
        return scores

    def decide(self, scores: np.ndarray) -> np.ndarray:
        """Boolean label matrix: a label is on when its score reaches its threshold."""
        return decide(scores, self.thresholds)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        return to_predictions(self.score(texts), self.label_ids, self.thresholds)


def to_predictions(scores: np.ndarray, label_ids: Sequence[str], thresholds: np.ndarray) -> list[Prediction]:
    """Score rows to :class:`Prediction` objects; the server applies it to scores its batcher computed."""
    decided = decide(scores, thresholds)
    return [
        Prediction(
            labels=[label for label, on in zip(label_ids, row_on) if on],
            scores={label: round(float(s), 6) for label, s in zip(label_ids, row_scores)},
        )
        for row_scores, row_on in zip(scores, decided)
    ]
