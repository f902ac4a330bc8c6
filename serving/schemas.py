"""Request and response models of the public API (kept apart from internal objects)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from framewatch.text import NON_BLANK_PATTERN, is_blank

__all__ = [
    "AnalyzeRequest",
    "AnalyzeResponse",
    "ClassifyRequest",
    "ClassifyResponse",
    "ErrorBody",
    "ErrorResponse",
    "HealthResponse",
    "LabelInfo",
    "LabelSummary",
    "ModelInfo",
    "ReloadRequest",
    "ReloadResponse",
    "SentenceResult",
    "TextResult",
]


NonBlankText = Annotated[str, Field(min_length=1, json_schema_extra={"pattern": NON_BLANK_PATTERN})]
"""A string with at least one non-whitespace character (the pattern documents it in OpenAPI)."""


def _non_blank(text: str) -> str:
    if is_blank(text):
        raise ValueError("text must contain non-whitespace characters")
    return text


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[NonBlankText] = Field(
        min_length=1,
        description="Sentences to score, each a non-empty string.",
        examples=[["They gave their lives for a sacred cause."]],
    )

    @field_validator("texts")
    @classmethod
    def _texts_non_blank(cls, texts: list[str]) -> list[str]:
        for i, text in enumerate(texts):
            if is_blank(text):
                raise ValueError(f"texts[{i}] is empty or whitespace")
        return texts


class TextResult(BaseModel):
    labels: list[str] = Field(description="Labels whose score reaches the checkpoint's threshold.")
    scores: dict[str, float] = Field(description="Sigmoid score per label.")
    windows: int = Field(
        description="Model windows the text took: 1, or more for a text longer than the model's window, scored "
        "over overlapping windows (the score is the maximum over them, so every word counts)."
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
