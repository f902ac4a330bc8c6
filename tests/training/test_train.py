import json

import pytest

from framewatch.checkpoint import load_metadata
from framewatch.predictor import Predictor
from framewatch.thresholds import tune_thresholds
from framewatch.training.train import main, work_dir_for


def test_model_card_has_front_matter_and_sections(tiny_checkpoint):
    card = (tiny_checkpoint / "README.md").read_text()
    assert card.startswith("---\n") and "pipeline_tag: text-classification" in card
    for section in (
        "## Model details",
        "## Intended use",
        "## Out-of-scope use",
        "## Training data",
        "## Evaluation results",
        "## Thresholds",
        "## Limitations and biases",
    ):
        assert section in card
    assert "Not a fact-checker" in card


def test_new_two_label_schema_needs_no_code(weather_schema):
    meta = load_metadata(weather_schema["checkpoint"])
    assert meta.label_ids == ["wet", "sunny"]
    assert json.loads((weather_schema["checkpoint"] / "config.json").read_text())["id2label"] == {
        "0": "wet",
        "1": "sunny",
    }
    predictions = Predictor.from_checkpoint(weather_schema["checkpoint"]).predict(["Rain again today."])
    assert set(predictions[0].scores) == {"wet", "sunny"}


def test_interrupted_training_resumes(tmp_path, tiny_config, monkeypatch):
    from transformers import Trainer

    output = tmp_path / "resumable"
    overrides = ["--set", "training.max_steps=6", "--set", "training.eval_every_steps=2"]
    original_step = Trainer.training_step
    calls = {"n": 0}

    def interrupting_step(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "training_step", interrupting_step)
    with pytest.raises(KeyboardInterrupt):
        main(["--config", str(tiny_config), "--output", str(output), *overrides])
    assert not output.exists()  # nothing published from a broken run
    work = work_dir_for(output)
    assert (work / "checkpoint-4").is_dir()
    monkeypatch.setattr(Trainer, "training_step", original_step)

    resumed_from = []
    original_train = Trainer.train

    def recording_train(self, *args, **kwargs):
        resumed_from.append(kwargs.get("resume_from_checkpoint"))
        return original_train(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "train", recording_train)
    assert main(["--config", str(tiny_config), "--output", str(output), "--resume", *overrides]) == 0
    assert resumed_from == [str(work / "checkpoint-4")]
    assert load_metadata(output).checkpoint_id and not work.exists()


def test_thresholds_maximise_dev_f1():
    import numpy as np

    from framewatch.config import ThresholdConfig

    y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    s = np.array([[0.30, 0.1], [0.25, 0.2], [0.10, 0.9], [0.05, 0.3]])
    thresholds = tune_thresholds(y, s, ["a", "b"], ThresholdConfig())
    assert 0.10 < thresholds["a"] <= 0.25 and 0.30 < thresholds["b"] <= 0.9
    assert tune_thresholds(y, s, ["a", "b"], ThresholdConfig(policy="fixed", default=0.4)) == {"a": 0.4, "b": 0.4}


def test_metadata_records_config_and_seed(tiny_checkpoint):
    meta = json.loads((tiny_checkpoint / "framewatch.json").read_text())
    assert meta["config"]["training"]["seed"] == meta["seed"] == 42
    assert meta["base_model_sha256"] and meta["created"]
    assert meta["window_stride"] == meta["config"]["model"]["window_stride"] == 8  # the config's, not a default
