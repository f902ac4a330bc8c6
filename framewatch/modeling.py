"""A sentence classifier that keeps the base model's own sentence representation.

Sentence-embedding models such as all-MiniLM-L6-v2 were trained so that the
*mean* of their token states places sentences by meaning; their ``[CLS]``
state and pooler were never trained for that. ``BertForSequenceClassification``
classifies from the pooler, so fine-tuning has to rebuild a sentence
representation from written training data, and that representation does not
carry over to real text. :class:`MeanPoolingClassifier` classifies the masked
mean of the token states instead, so training starts from the representation
the base model already has and only has to learn the labels.

Importing this module registers the architecture with transformers' Auto
classes, so ``AutoModelForSequenceClassification.from_pretrained`` loads a
framewatch checkpoint like any other.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSequenceClassification,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.modeling_outputs import SequenceClassifierOutput

from framewatch.config import MEAN_POOLING

__all__ = ["MeanPoolingClassifier", "MeanPoolingConfig", "build_classifier", "mean_pool"]


def _schema_settings(label_ids: list[str]) -> dict[str, Any]:
    """The config entries that make a classifier multi-label over ``label_ids``, with readable label names."""
    return {
        "num_labels": len(label_ids),
        "problem_type": "multi_label_classification",
        "id2label": dict(enumerate(label_ids)),
        "label2id": {label: i for i, label in enumerate(label_ids)},
    }


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token states that the attention mask keeps."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


class MeanPoolingConfig(PretrainedConfig):
    """The encoder's own config, kept whole under ``encoder``, plus the head's settings."""

    model_type = "framewatch-mean-pooling"

    def __init__(
        self,
        encoder: dict[str, Any] | None = None,
        classifier_dropout: float = 0.1,
        normalize: bool = False,
        **kwargs: Any,
    ):
        self.encoder = dict(encoder or {})
        self.classifier_dropout = classifier_dropout
        self.normalize = normalize  # unit-length sentence vectors (config: model.normalize)
        super().__init__(**kwargs)

    def encoder_config(self) -> PretrainedConfig:
        settings = dict(self.encoder)
        return AutoConfig.for_model(settings.pop("model_type"), **settings)


class MeanPoolingClassifier(PreTrainedModel):
    """Encoder, masked mean of its last hidden states (unit length with ``normalize``), dropout, linear logits."""

    config_class = MeanPoolingConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True

    def __init__(self, config: MeanPoolingConfig):
        super().__init__(config)
        self.encoder = AutoModel.from_config(config.encoder_config(), add_pooling_layer=False)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(self.encoder.config.hidden_size, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if module is getattr(self, "classifier", None):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)

    @classmethod
    def from_base(
        cls, location: str, *, label_ids: list[str], classifier_dropout: float = 0.1, normalize: bool = False
    ) -> MeanPoolingClassifier:
        """A new classifier whose encoder holds the pretrained weights at ``location``."""
        encoder = AutoModel.from_pretrained(location, add_pooling_layer=False)
        config = MeanPoolingConfig(
            encoder=encoder.config.to_dict(),
            classifier_dropout=classifier_dropout,
            normalize=normalize,
            **_schema_settings(label_ids),
        )
        model = cls(config)
        model.encoder.load_state_dict(encoder.state_dict())
        return model

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **encoder_inputs: Any) -> torch.Tensor:
        """The sentence vectors that the head classifies."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **encoder_inputs).last_hidden_state
        pooled = mean_pool(hidden, attention_mask)
        return nn.functional.normalize(pooled, dim=-1) if self.config.normalize else pooled

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **_: Any,
    ) -> SequenceClassifierOutput:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        logits = self.classifier(self.dropout(self.embed(input_ids, attention_mask, **extra)))
        loss = None
        if labels is not None:
            loss = nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        return SequenceClassifierOutput(loss=loss, logits=logits)


AutoConfig.register(MeanPoolingConfig.model_type, MeanPoolingConfig, exist_ok=True)
AutoModelForSequenceClassification.register(MeanPoolingConfig, MeanPoolingClassifier, exist_ok=True)


def build_classifier(location: str, label_ids: list[str], pooling: str, *, normalize: bool = False) -> PreTrainedModel:
    """A new, untrained classifier over the base model at ``location`` with the head ``pooling`` names."""
    if pooling == MEAN_POOLING:
        return MeanPoolingClassifier.from_base(location, label_ids=label_ids, normalize=normalize)
    return AutoModelForSequenceClassification.from_pretrained(location, **_schema_settings(label_ids))
