import numpy as np
import pytest
import torch

from framewatch.config import ModelConfig
from framewatch.data import multi_hot, read_examples
from framewatch.errors import ConfigError
from framewatch.modeling import neighbour_evidence
from framewatch.predictor import Predictor
from framewatch.training.linear_probe import sentence_vectors
from framewatch.training.train import main
from tests.conftest import LABELS, write_config


def test_evidence_is_nearest_positives_minus_nearest_negatives():
    angles = torch.tensor([0.0, 0.2, 0.4, 1.2, 1.4, 3.0])
    memory = torch.stack([angles.cos(), angles.sin()], dim=1)
    labels = torch.tensor([[1.0], [1.0], [0.0], [1.0], [0.0], [0.0]])
    query = torch.tensor([[1.0, 0.0]])
    evidence = neighbour_evidence(query, memory, labels, k=2)
    cos = angles.cos()
    expected = (cos[0] + cos[1]) / 2 - (cos[2] + cos[4]) / 2  # two nearest of each side
    assert evidence.shape == (1, 1)
    assert evidence.item() == pytest.approx(expected.item(), abs=1e-6)
    assert neighbour_evidence(query, memory, labels, k=50).item() == pytest.approx(
        cos[[0, 1, 3]].mean().item() - cos[[2, 4, 5]].mean().item(), abs=1e-6
    )


def test_neighbours_need_unit_vectors_and_a_frozen_encoder(tmp_path, tiny_base_model, sample_splits):
    with pytest.raises(ValueError, match="needs model.normalize: true"):
        ModelConfig(neighbours=3)
    config = write_config(
        tmp_path / "tuned.yaml",
        train=sample_splits["train"],
        dev=sample_splits["dev"],
        test=None,
        base=str(tiny_base_model),
        extra="  linear_probe_c: 0.1\n",
    )
    with pytest.raises(ConfigError, match="needs training.fine_tune: false"):
        main(["--config", str(config), "--output", str(tmp_path / "x"), "--set", "model.normalize=true",
              "--set", "model.neighbours=3"])  # fmt: skip


def test_a_checkpoint_keeps_its_memory_and_mixes_it_into_the_logits(tmp_path, tiny_base_model, sample_splits):
    config = write_config(
        tmp_path / "nn.yaml",
        train=sample_splits["train"],
        dev=sample_splits["dev"],
        test=None,
        base=str(tiny_base_model),
        extra="  fine_tune: false\n  linear_probe_c: 0.5\n",
    )
    output = tmp_path / "nn-ck"
    overrides = ["--set", "model.normalize=true", "--set", "model.neighbours=3", "--set", "model.neighbour_weight=0.4"]
    assert main(["--config", str(config), "--output", str(output), *overrides]) == 0
    predictor = Predictor.from_checkpoint(output, device="cpu", dtype="fp32")
    model = predictor.model
    train = read_examples(sample_splits["train"], LABELS)
    assert model.config.neighbours == 3 and model.config.neighbour_weight == pytest.approx(0.4)
    assert model.memory.shape == (len(train), model.config.encoder_config().hidden_size)
    np.testing.assert_allclose(model.memory.norm(dim=1).numpy(), 1.0, atol=1e-5)
    np.testing.assert_array_equal(model.memory_labels.numpy(), multi_hot([e.labels for e in train], LABELS))
    assert model.neighbour_scale.abs().sum() > 0  # calibrated on dev, not left at zero

    texts = ["The envoy laid a wreath at the memorial.", "Rates were held at four percent."]
    vectors = sentence_vectors(model, predictor.tokenizer, texts, max_length=48)
    probe = model.classifier(vectors)
    evidence = neighbour_evidence(vectors, model.memory, model.memory_labels, 3)
    mixed = 0.6 * probe + 0.4 * (evidence * model.neighbour_scale + model.neighbour_bias)
    scores = predictor.score(texts)
    np.testing.assert_allclose(scores, torch.sigmoid(mixed).detach().numpy(), atol=1e-5)
    assert not np.allclose(scores, torch.sigmoid(probe).detach().numpy(), atol=1e-4)


def test_bf16_scores_stay_near_fp32_with_the_memory_in_bf16(probe_checkpoint):
    fp32 = Predictor.from_checkpoint(probe_checkpoint, device="cpu", dtype="fp32")
    bf16 = Predictor.from_checkpoint(probe_checkpoint, device="cpu", dtype="bf16")
    assert fp32.model.config.neighbours == 5
    texts = [f"Sentence {i} about a wreath, a holy war, or rain in the hills." for i in range(40)]
    np.testing.assert_allclose(bf16.score(texts), fp32.score(texts), atol=0.02)
    cast = bf16.model._memory_cast[1]  # the bf16 copy the matrix product used, made once and kept
    assert cast.dtype == torch.bfloat16 and bf16.model.memory.dtype == torch.float32
