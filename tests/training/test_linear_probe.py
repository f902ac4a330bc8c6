import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from framewatch.checkpoint import load_metadata
from framewatch.errors import ConfigError
from framewatch.modeling import MeanPoolingClassifier
from framewatch.predictor import Predictor
from framewatch.training.linear_probe import fit_linear_probe, sentence_vectors
from framewatch.training.train import main
from tests.conftest import write_config


def test_linear_probe_solves_scikit_learns_logistic_regression(tiny_base_model):
    from transformers import AutoTokenizer

    torch.manual_seed(0)
    model = MeanPoolingClassifier.from_base(str(tiny_base_model), label_ids=["a", "b"])
    tokenizer = AutoTokenizer.from_pretrained(tiny_base_model)
    texts = [f"sentence {i} about {'war' if i % 3 else 'peace'} and {'rain' if i % 2 else 'sun'}" for i in range(60)]
    targets = np.array([[i % 3 == 0, i % 2 == 0] for i in range(60)], dtype=np.float32)
    vectors = sentence_vectors(model, tokenizer, texts, max_length=32)
    fit_linear_probe(model, vectors, targets, c=0.5)
    vectors = vectors.numpy()
    for k in range(2):
        reference = LogisticRegression(C=0.5, max_iter=5000, tol=1e-8).fit(vectors, targets[:, k])
        np.testing.assert_allclose(model.classifier.weight[k].detach().numpy(), reference.coef_[0], atol=2e-3)
        assert abs(model.classifier.bias[k].item() - reference.intercept_[0]) < 2e-3


def test_probe_only_training_keeps_the_pretrained_encoder(tmp_path, tiny_base_model, sample_splits):
    config = write_config(
        tmp_path / "probe.yaml",
        train=sample_splits["train"],
        dev=sample_splits["dev"],
        test=sample_splits["test"],
        base=str(tiny_base_model),
        extra="  fine_tune: false\n  linear_probe_c: 0.1\n",
    )
    output = tmp_path / "probe-ck"
    assert main(["--config", str(config), "--output", str(output)]) == 0
    predictor = Predictor.from_checkpoint(output, device="cpu", dtype="fp32")
    assert isinstance(predictor.model, MeanPoolingClassifier)
    base = MeanPoolingClassifier.from_base(str(tiny_base_model), label_ids=["x"])
    trained = predictor.model.encoder.state_dict()
    assert all(torch.equal(trained[name], value) for name, value in base.encoder.state_dict().items())
    assert load_metadata(output).config["training"]["fine_tune"] is False


def test_probe_only_training_needs_a_probe(tmp_path, tiny_base_model, sample_splits):
    config = write_config(
        tmp_path / "none.yaml",
        train=sample_splits["train"],
        dev=sample_splits["dev"],
        test=None,
        base=str(tiny_base_model),
        extra="  fine_tune: false\n",
    )
    with pytest.raises(ConfigError, match="trains nothing"):
        main(["--config", str(config), "--output", str(tmp_path / "x")])


def test_normalized_vectors_are_unit_length_and_survive_a_checkpoint(tmp_path, tiny_base_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_base_model)
    texts = ["a short one", "a somewhat longer sentence about the weather and the sea"]
    plain = MeanPoolingClassifier.from_base(str(tiny_base_model), label_ids=["a"])
    unit = MeanPoolingClassifier.from_base(str(tiny_base_model), label_ids=["a"], normalize=True)
    raw = sentence_vectors(plain, tokenizer, texts, max_length=32)
    normed = sentence_vectors(unit, tokenizer, texts, max_length=32)
    np.testing.assert_allclose(normed.norm(dim=1).numpy(), 1.0, atol=1e-5)
    np.testing.assert_allclose(normed.numpy(), (raw / raw.norm(dim=1, keepdim=True)).numpy(), atol=1e-5)
    unit.save_pretrained(tmp_path / "unit")
    assert MeanPoolingClassifier.from_pretrained(tmp_path / "unit").config.normalize is True


def test_normalize_needs_mean_pooling():
    from framewatch.config import ModelConfig

    with pytest.raises(ValueError, match="model.normalize needs model.pooling: mean"):
        ModelConfig(pooling="cls", normalize=True)
