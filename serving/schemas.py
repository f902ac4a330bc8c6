"""Request and response models of the public API (kept apart from internal objects)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from framewatch.text import NON_BLANK_PATTERN, is_blank

__all__ = [
    "AnalyzeRequest",
    "AnalyzeResponse",
    "ClassifyRequest",
    "ClassifyResponse",
    "ErrorBody",
    "ErrorResponse",
    "EvidenceSpan",
    "HealthResponse",
    "LabelInfo",
    "LabelSummary",
    "ModelInfo",
    "ReloadRequest",
    "ReloadResponse",
    "SentenceResult",
    "ServingLimits",
    "TEIClassifier",
    "TEIError",
    "TEIInfo",
    "TEIModelType",
    "TEIPredictRequest",
    "TEIPrediction",
    "TextResult",
]


NonBlankText = Annotated[str, Field(min_length=1, json_schema_extra={"pattern": NON_BLANK_PATTERN})]
"""A string with at least one non-whitespace character (the pattern documents it in OpenAPI)."""


def _non_blank(text: str) -> str:
    if is_blank(text):
        raise ValueError("text must contain non-whitespace characters")
    return text


_EXPLAIN = Field(
    default=False,
    strict=True,
    description="Also return, for each label a sentence carries, the words that carry its score (word occlusion). "
    "At most serving.max_explain_sentences flagged sentences per request (422 past it).",
)


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[NonBlankText] = Field(
        min_length=1,
        description="Sentences to score, each a non-empty string.",
        examples=[["They gave their lives for a sacred cause."]],
    )
    explain: bool = _EXPLAIN

    @field_validator("texts")
    @classmethod
    def _texts_non_blank(cls, texts: list[str]) -> list[str]:
        for i, text in enumerate(texts):
            if is_blank(text):
                raise ValueError(f"texts[{i}] is empty or whitespace")
        return texts


class EvidenceSpan(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # built from framewatch.explain.Evidence

    start: int = Field(description="Character offset in the submitted text (the article, for /v1/analyze).")
    end: int = Field(description="End offset (exclusive).")
    text: str
    weight: float = Field(description="How far the label's score falls when these words are deleted.")


class TextResult(BaseModel):
    labels: list[str] = Field(description="Labels whose score reaches the checkpoint's threshold.")
    scores: dict[str, float] = Field(description="Sigmoid score per label.")
    windows: int = Field(
        description="Model windows the text took: 1, or more for a text longer than the model's window, scored "
        "over overlapping windows (the score is the maximum over them, so every word counts)."
    )
    evidence: dict[str, list[EvidenceSpan]] | None = Field(
        default=None,
        description="Only with explain: true. For each label in labels, the words whose deletion lowers its score "
        "most, highest weight first; {} for a sentence with no label.",
    )


class ClassifyResponse(BaseModel):
    model: str = Field(description="Checkpoint id that produced these results.")
    results: list[TextResult]


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: NonBlankText = Field(
        description="An article: it is split into sentences and each is scored.",
        examples=["The delegation laid a wreath at the memorial. Talks resume on Monday."],
    )
    explain: bool = _EXPLAIN

    _non_blank_text = field_validator("text")(_non_blank)


class SentenceResult(TextResult):
    text: str
    start: int = Field(description="Character offset of the sentence in the submitted text.")
    end: int = Field(description="End offset (exclusive): text[start:end] is the sentence.")


class LabelSummary(BaseModel):
    sentences: int = Field(description="Sentences carrying the label.")
    max_score: float
    share: float = Field(description="Fraction of the article's sentences carrying the label.")


class AnalyzeResponse(BaseModel):
    model: str
    sentences: list[SentenceResult]
    summary: dict[str, LabelSummary]


class LabelInfo(BaseModel):
    id: str
    name: str
    description: str
    threshold: float


class ServingLimits(BaseModel):
    """The request limits of this server (its configuration), so clients can split their work to fit."""

    max_texts_per_request: int
    max_chars_per_text: int
    max_chars_per_article: int
    max_sentences_per_article: int
    max_explain_sentences: int


class ModelInfo(BaseModel):
    checkpoint_id: str
    checkpoint_path: str
    base_model: str
    labels: list[LabelInfo]
    dev_metrics: dict
    device: str
    dtype: str
    dtype_reason: str
    created: str
    limits: ServingLimits


class HealthResponse(BaseModel):
    status: str


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkpoint: str | None = Field(default=None, description="Checkpoint directory; default: the configured one.")


class ReloadResponse(BaseModel):
    previous: str
    current: str


class ErrorBody(BaseModel):
    type: str = Field(description="Machine-readable error kind.")
    message: str = Field(description="Why the request failed.")
    details: list | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


# --- text-embeddings-inference wire format (POST /predict, GET /info) -------------------------------------------


class TEIPredictRequest(BaseModel):
    """TEI's ``/predict`` body. Unknown fields are ignored, as TEI does."""

    model_config = ConfigDict(extra="ignore")

    inputs: NonBlankText | Annotated[list[NonBlankText], Field(json_schema_extra={"minItems": 1})] = Field(
        description="One text, or a list of texts (answered with a list of lists). Text pairs are not supported. "
        "An empty list gets 400 with error_type Empty, as in TEI.",
        examples=["They gave their lives for a sacred cause."],
    )
    truncate: bool | None = Field(
        default=None,
        strict=True,
        description="true: score only the first (or last) max_input_length tokens. false or absent: framewatch "
        "scores a longer text over overlapping windows (TEI would refuse it).",
    )
    truncation_direction: Literal["Left", "Right", "left", "right"] = Field(
        default="Right", description="Right keeps the start of a truncated text, Left its end."
    )
    raw_scores: bool = Field(default=False, strict=True, description="Return logits instead of sigmoid scores.")

    @field_validator("inputs")
    @classmethod
    def _inputs_non_blank(cls, inputs: str | list[str]) -> str | list[str]:
        for i, text in enumerate([inputs] if isinstance(inputs, str) else inputs):
            if is_blank(text):
                raise ValueError(f"inputs[{i}] is empty or whitespace")
        return inputs


class TEIPrediction(BaseModel):
    score: float
    label: str


class TEIClassifier(BaseModel):
    id2label: dict[str, str]
    label2id: dict[str, int]


class TEIModelType(BaseModel):
    classifier: TEIClassifier


class TEIInfo(BaseModel):
    model_id: str
    model_sha: str | None
    model_dtype: str
    served_model_name: str
    model_type: TEIModelType
    max_concurrent_requests: int
    max_input_length: int
    max_batch_tokens: int
    max_batch_requests: int | None
    max_client_batch_size: int
    auto_truncate: bool
    tokenization_workers: int
    version: str
    sha: str | None = None
    docker_label: str | None = None


class TEIError(BaseModel):
    error: str
    error_type: Literal["Unhealthy", "Backend", "Overloaded", "Validation", "Tokenizer", "Empty", "Unauthorized"]
