"""A sentence classifier that keeps the base model's own sentence representation.

Sentence-embedding models such as all-MiniLM-L6-v2 were trained so that the
*mean* of their token states places sentences by meaning; their ``[CLS]``
state and pooler were never trained for that. ``BertForSequenceClassification``
classifies from the pooler, so fine-tuning has to rebuild a sentence
representation from written training data, and that representation does not
carry over to real text. :class:`MeanPoolingClassifier` classifies the masked
mean of the token states instead, so training starts from the representation
the base model already has and only has to learn the labels.

With ``neighbours`` (config ``model.neighbours``), each label is also scored
by the training sentences nearest to a sentence: a linear head draws one plane
through the whole space, and the written training sets hold many small regions
(one per way of carrying a frame) that a plane cuts through; the nearest
sentences of each side know which region a real sentence falls in. On real
text this ranked every label better than the head alone (datasets/realtext-v1/
DATASHEET.md, "Model choices").

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

__all__ = ["MeanPoolingClassifier", "MeanPoolingConfig", "build_classifier", "mean_pool", "neighbour_evidence"]


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


def neighbour_evidence(
    vectors: torch.Tensor, memory: torch.Tensor, memory_labels: torch.Tensor, k: int
) -> torch.Tensor:
    """Per label: mean cosine to the ``k`` nearest positive memory rows minus that to the ``k`` nearest negatives.

    ``vectors`` and ``memory`` are unit length, so their products are cosines,
    taken in ``memory``'s dtype (bf16 under a bf16 predictor: the matrix
    product with the whole memory is the costly part, and the predictor checks
    its bf16 scores against fp32 reference outputs at load).
    The difference, not the positive side alone, is the evidence: a sentence
    close to many written sentences of any kind is close to positives too.

    >>> import torch
    >>> memory = torch.tensor([[1.0, 0.0], [0.0, 1.0]]); labels = torch.tensor([[1.0], [0.0]])
    >>> neighbour_evidence(torch.tensor([[1.0, 0.0]]), memory, labels, k=1)
    tensor([[1.]])
    """
    with torch.autocast(device_type=vectors.device.type, enabled=False):
        similarity = (vectors.to(memory.dtype) @ memory.T).float()
        positive = memory_labels > 0.5
        # The nearest rows of all labels at once: a label's k nearest negatives are nearly always among them,
        # which spares a pass over the whole similarity matrix per label and side.
        candidates = similarity.topk(min(similarity.shape[1], k + _SPARE_CANDIDATES), dim=1)
        columns = []
        for label in range(memory_labels.shape[1]):
            columns.append(
                _mean_nearest(similarity, positive[:, label], k)
                - _mean_nearest(similarity, ~positive[:, label], k, candidates)
            )
        return torch.stack(columns, dim=1)


_SPARE_CANDIDATES = 64
"""Nearest rows fetched beyond ``k``, so that ``k`` of one side remain after the other side's are set aside."""


def _mean_nearest(similarity: torch.Tensor, side: torch.Tensor, k: int, candidates=None) -> torch.Tensor:
    """Mean of the ``k`` highest similarities to memory rows where ``side`` holds (all of them if fewer)."""
    count = min(k, int(side.sum()))
    if count == 0:  # no memory row on this side: it says nothing
        return similarity.new_zeros(similarity.shape[0])
    if candidates is None:
        return similarity[:, side].topk(count, dim=1).values.mean(dim=1)
    kept = side[candidates.indices]
    result = candidates.values.masked_fill(~kept, float("-inf")).topk(count, dim=1).values.mean(dim=1)
    short = kept.sum(dim=1) < count  # rows whose nearest rows were nearly all of the other side: exact pass
    if short.any():
        result[short] = similarity[short][:, side].topk(count, dim=1).values.mean(dim=1)
    return result


class MeanPoolingConfig(PretrainedConfig):
    """The encoder's own config, kept whole under ``encoder``, plus the head's settings."""

    model_type = "framewatch-mean-pooling"

    def __init__(
        self,
        encoder: dict[str, Any] | None = None,
        classifier_dropout: float = 0.1,
        normalize: bool = False,
        neighbours: int = 0,
        neighbour_weight: float = 0.0,
        memory_size: int = 0,
        **kwargs: Any,
    ):
        self.encoder = dict(encoder or {})
        self.classifier_dropout = classifier_dropout
        self.normalize = normalize  # unit-length sentence vectors (config: model.normalize)
        self.neighbours = neighbours  # k of the neighbour evidence; 0 = the linear head alone
        self.neighbour_weight = neighbour_weight
        self.memory_size = memory_size  # training sentences kept for it
        super().__init__(**kwargs)

    def encoder_config(self) -> PretrainedConfig:
        settings = dict(self.encoder)
        return AutoConfig.for_model(settings.pop("model_type"), **settings)


class MeanPoolingClassifier(PreTrainedModel):
    """Encoder, masked mean of its last hidden states (unit length with ``normalize``), then :meth:`head`."""

    config_class = MeanPoolingConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True

    def __init__(self, config: MeanPoolingConfig):
        super().__init__(config)
        self.encoder = AutoModel.from_config(config.encoder_config(), add_pooling_layer=False)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(self.encoder.config.hidden_size, config.num_labels)
        if config.neighbours:
            self._register_memory(
                torch.zeros(config.memory_size, self.encoder.config.hidden_size),
                torch.zeros(config.memory_size, config.num_labels),
                torch.zeros(config.num_labels),
                torch.zeros(config.num_labels),
            )
        self.post_init()

    def _register_memory(
        self, memory: torch.Tensor, labels: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor
    ) -> None:
        self.register_buffer("memory", memory)
        self.register_buffer("memory_labels", labels)
        self.register_buffer("neighbour_scale", scale)
        self.register_buffer("neighbour_bias", bias)

    def set_neighbours(
        self,
        memory: torch.Tensor,
        memory_labels: torch.Tensor,
        scale: torch.Tensor,
        bias: torch.Tensor,
        *,
        k: int,
        weight: float,
    ) -> None:
        """Keep ``memory`` (unit-length training vectors) and labels; ``scale``, ``bias`` map evidence to logits."""
        if not self.config.normalize:
            raise ValueError("neighbour evidence compares unit-length vectors: build the model with normalize=True")
        device = self.classifier.weight.device
        self._register_memory(*(t.detach().float().to(device) for t in (memory, memory_labels, scale, bias)))
        self.config.neighbours, self.config.neighbour_weight = k, weight
        self.config.memory_size = memory.shape[0]

    def neighbour_logits(self, vectors: torch.Tensor) -> torch.Tensor:
        """The neighbour evidence of :func:`neighbour_evidence` on the calibrated logit scale."""
        evidence = neighbour_evidence(vectors, self._memory_for(vectors), self.memory_labels, self.config.neighbours)
        return evidence * self.neighbour_scale + self.neighbour_bias

    def _memory_for(self, vectors: torch.Tensor) -> torch.Tensor:
        """The memory in the dtype this call computes in: autocast's when it is on, fp32 otherwise (cached)."""
        device = vectors.device.type
        dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else torch.float32
        if dtype == self.memory.dtype:
            return self.memory
        key = (dtype, self.memory.device, self.memory.data_ptr())
        if getattr(self, "_memory_cast", (None, None))[0] != key:
            self._memory_cast = (key, self.memory.to(dtype))
        return self._memory_cast[1]

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

    def head(self, vectors: torch.Tensor) -> torch.Tensor:
        """Logits of sentence vectors: the linear head's, mixed with the neighbour evidence's when there is one.

        Separate from :meth:`forward` so that a caller scoring many short forward
        passes can classify their vectors in one call: the neighbour evidence reads
        the whole memory once per call, which costs the same for 6 vectors as for 200.
        """
        logits = self.classifier(self.dropout(vectors))
        if not self.config.neighbours:
            return logits
        weight = self.config.neighbour_weight
        return (1 - weight) * logits.float() + weight * self.neighbour_logits(vectors)

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
        logits = self.head(self.embed(input_ids, attention_mask, **extra))
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
