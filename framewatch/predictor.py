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
from framewatch.config import DEFAULT_MAX_BATCH_TOKENS
from framewatch.errors import CheckpointError, InputError
from framewatch.text import is_blank
from framewatch.thresholds import decide, threshold_row

__all__ = [
    "BF16_TOLERANCE",
    "TRUNCATION_SIDES",
    "Prediction",
    "Predictor",
    "ScoredTexts",
    "max_over_windows",
    "resolve_device",
    "to_predictions",
]

logger = logging.getLogger(__name__)

BF16_TOLERANCE = 0.01
"""Largest absolute score difference from the stored fp32 reference that bf16 may show."""

TRUNCATION_SIDES = ("right", "left")
"""Where a text may be cut when a caller asks for truncation instead of windows (keep the start, or the end)."""


@dataclass(frozen=True)
class ScoredTexts:
    """Scores of a list of texts, how many model windows each took (1 unless longer than max_length), and its tokens.

    ``tokens`` counts each text's tokens over all its windows, special tokens included.
    """

    scores: np.ndarray
    windows: np.ndarray
    tokens: np.ndarray

    @classmethod
    def empty(cls, n_labels: int) -> ScoredTexts:
        return cls(np.zeros((0, n_labels), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64))


PAD_MULTIPLE = 8
"""Windows are padded to the next multiple of this many tokens, and a forward pass holds one padded length only.

A window's score then depends on its own tokens alone, never on which other
sentences share its batch: bf16 kernels give results that differ by up to 1e-3
for the same window padded to different lengths, so padding "to the longest in
the batch" would let a concurrent request change another's scores. Rounding up
to a multiple of 8 wastes at most 7 tokens a window.
"""


def padded_length(length: int, max_length: int) -> int:
    """The length a window of ``length`` tokens is padded to: a function of its own length only."""
    return min(-(-length // PAD_MULTIPLE) * PAD_MULTIPLE, max(max_length, length))


def max_over_windows(window_scores: np.ndarray, owner: np.ndarray, n_texts: int) -> np.ndarray:
    """A text's score per label is the highest score of any of its windows: a frame anywhere counts."""
    scores = np.zeros((n_texts, window_scores.shape[1]), dtype=np.float32)
    np.maximum.at(scores, owner, window_scores)
    return scores


@dataclass(frozen=True)
class Prediction:
    """Scores for one sentence, the labels whose score reaches its threshold, and the model windows it took."""

    labels: list[str]
    scores: dict[str, float]
    windows: int = 1


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

    Forward passes group windows of one padded length (:data:`PAD_MULTIPLE`),
    so short sentences do not pay for long ones and no sentence's score depends
    on what else is in its batch.
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
        max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
        dtype_reason: str = "",
    ):
        self.model = model.eval().to(device)
        self.tokenizer = tokenizer
        self.metadata = metadata
        self.device = device
        self.dtype = dtype
        self.dtype_reason = dtype_reason
        self.batch_size = batch_size
        self.max_batch_tokens = max(max_batch_tokens, metadata.max_length)
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
        max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
        verify: bool = True,
    ) -> Predictor:
        """Load a checkpoint, verifying its files first when ``verify`` is set.

        ``dtype="auto"`` picks bf16 only where the hardware runs it natively
        and the checkpoint's stored fp32 reference scores are reproduced within
        :data:`BF16_TOLERANCE`; otherwise fp32.
        """
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        import framewatch.modeling  # noqa: F401  (registers the mean-pooling architecture with the Auto classes)

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
        predictor = cls(
            model,
            tokenizer,
            metadata,
            device=torch_device,
            dtype="fp32",
            batch_size=batch_size,
            max_batch_tokens=max_batch_tokens,
        )
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

    def _batches(self, lengths: Sequence[int]) -> Iterator[tuple[list[int], int]]:
        """Window indices grouped by padded length, each group cut to the size and token budgets.

        Yields ``(indices, padded_length)``; see :data:`PAD_MULTIPLE` for why a pass never mixes lengths.
        """
        groups: dict[int, list[int]] = {}
        for index in np.argsort(lengths, kind="stable").tolist():
            groups.setdefault(padded_length(lengths[index], self.max_length), []).append(index)
        for padded, members in groups.items():
            size = max(1, min(self.batch_size, self.max_batch_tokens // padded))
            for start in range(0, len(members), size):
                yield members[start : start + size], padded

    @contextlib.contextmanager
    def _truncating(self, side: str | None) -> Iterator[None]:
        if side is None:
            yield
            return
        if side not in TRUNCATION_SIDES:
            raise InputError(f"truncation must be one of {TRUNCATION_SIDES}, not {side!r}")
        previous = self.tokenizer.truncation_side
        self.tokenizer.truncation_side = side
        try:
            yield
        finally:
            self.tokenizer.truncation_side = previous

    @torch.inference_mode()
    def score_windows(self, texts: Sequence[str], *, truncation: str | None = None) -> ScoredTexts:
        """Sigmoid scores, shape ``(len(texts), n_labels)`` in input order, with each text's windows and tokens.

        A text longer than ``max_length`` tokens is cut into overlapping windows
        (``window_stride`` tokens shared) and scored as the maximum over them, so
        no word goes unscored. Batches are budgeted by the real token counts.
        ``truncation`` ("right" keeps the start, "left" the end) scores one
        window per text instead, for callers that ask for it explicitly.
        """
        if isinstance(texts, str):
            raise InputError("score() takes a list of sentences, not one string")
        for text in texts:
            if not isinstance(text, str) or is_blank(text):
                raise InputError("every text must be a non-empty string")
        n_labels = len(self.label_ids)
        if not texts:
            return ScoredTexts.empty(n_labels)
        with self._truncating(truncation):
            encoded = self.tokenizer(
                list(texts),
                truncation=True,
                max_length=self.max_length,
                stride=self.metadata.window_stride if truncation is None else 0,
                return_overflowing_tokens=truncation is None,
            )
        if truncation is None:
            owner = np.asarray(encoded["overflow_to_sample_mapping"], dtype=np.int64)
        else:
            owner = np.arange(len(texts), dtype=np.int64)
        names = [name for name in self.tokenizer.model_input_names if name in encoded]
        lengths = [len(ids) for ids in encoded["input_ids"]]
        window_scores = np.zeros((len(owner), n_labels), dtype=np.float32)
        two_stage = hasattr(self.model, "head")  # MeanPoolingClassifier: embed each pass, classify them together
        vectors = torch.zeros(len(owner), self.model.classifier.in_features, device=self.device) if two_stage else None
        for batch, padded in self._batches(lengths):
            features = [{name: encoded[name][i] for name in names} for i in batch]
            inputs = self.tokenizer.pad(features, padding="max_length", max_length=padded, return_tensors="pt").to(
                self.device
            )
            with self._autocast():
                if two_stage:
                    vectors[batch] = self.model.embed(**inputs).float()
                else:
                    window_scores[batch] = torch.sigmoid(self.model(**inputs).logits.float()).cpu().numpy()
        if two_stage:
            for start in range(0, len(owner), self.batch_size):
                chunk = vectors[start : start + self.batch_size]
                with self._autocast():
                    logits = self.model.head(chunk)
                window_scores[start : start + len(chunk)] = torch.sigmoid(logits.float()).cpu().numpy()
        return ScoredTexts(
            max_over_windows(window_scores, owner, len(texts)),
            np.bincount(owner, minlength=len(texts)),
            np.bincount(owner, weights=lengths, minlength=len(texts)).astype(np.int64),
        )

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Sigmoid scores, shape ``(len(texts), n_labels)``, in input order (see :meth:`score_windows`)."""
        return self.score_windows(texts).scores

    def decide(self, scores: np.ndarray) -> np.ndarray:
        """Boolean label matrix: a label is on when its score reaches its threshold."""
        return decide(scores, self.thresholds)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        scored = self.score_windows(texts)
        return to_predictions(scored, self.label_ids, self.decide(scored.scores))


def to_predictions(scored: ScoredTexts, label_ids: Sequence[str], decided: np.ndarray) -> list[Prediction]:
    """Scored texts and their decisions (:func:`~framewatch.thresholds.decide`) to :class:`Prediction` objects.

    It takes the decisions rather than the thresholds so that a caller that also needs them (metrics,
    evidence) decides once.
    """
    return [
        Prediction(
            labels=[label for label, on in zip(label_ids, row_on) if on],
            scores={label: round(float(s), 6) for label, s in zip(label_ids, row_scores)},
            windows=int(windows),
        )
        for row_scores, row_on, windows in zip(scored.scores, decided, scored.windows)
    ]
