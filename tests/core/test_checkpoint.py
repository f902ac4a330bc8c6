import json
import shutil
import stat

import pytest

from framewatch.checkpoint import load_metadata, publish_atomically, staging_dir_for, verify_manifest
from framewatch.errors import CheckpointError
from framewatch.predictor import Predictor


def _copy(src, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(src, dst)
    return dst


def test_layout_and_permissions(tiny_checkpoint):
    names = {p.name for p in tiny_checkpoint.iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "framewatch.json",
        "reference_outputs.json",
        "README.md",
        "MANIFEST.sha256",
    } <= names
    for path in tiny_checkpoint.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044, path  # readable by group and others
    config = json.loads((tiny_checkpoint / "config.json").read_text())
    assert config["id2label"] == {
        "0": "sacred_mission",
        "1": "unverified_historical_claim",
        "2": "soft_diplomacy_symbolism",
    }
    assert config["problem_type"] == "multi_label_classification"
    meta = load_metadata(tiny_checkpoint)
    assert set(meta.thresholds) == set(meta.label_ids)
    assert meta.seed == 42 and len(meta.data_sha256) == 3
    assert all(len(digest) == 64 for digest in meta.data_sha256.values())
    assert meta.versions["transformers"].startswith("5.")
    assert "macro" in meta.dev_metrics and meta.test_metrics is not None


def test_corruption_is_detected(tiny_checkpoint, tmp_path):
    copy = _copy(tiny_checkpoint, tmp_path)
    verify_manifest(copy)
    with open(copy / "model.safetensors", "r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02\x03")
    with pytest.raises(CheckpointError, match="model.safetensors is corrupt"):
        verify_manifest(copy)
    with pytest.raises(CheckpointError, match="corrupt"):
        Predictor.from_checkpoint(copy)
    (copy / "MANIFEST.sha256").unlink()
    with pytest.raises(CheckpointError, match="no MANIFEST"):
        verify_manifest(copy)


def test_schema_mismatch_is_an_error(tiny_checkpoint, tmp_path):
    copy = _copy(tiny_checkpoint, tmp_path)
    meta = json.loads((copy / "framewatch.json").read_text())
    meta["labels"] = list(reversed(meta["labels"]))
    (copy / "framewatch.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not match"):
        load_metadata(copy)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_metadata(tmp_path / "nowhere")


def test_publish_replaces_whole_directories(tmp_path):
    final = tmp_path / "ckpt"
    for version in ("one", "two"):
        staging = staging_dir_for(final)
        (staging / "version.txt").write_text(version)
        publish_atomically(staging, final)
        assert (final / "version.txt").read_text() == version
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no staging or old directories left behind
