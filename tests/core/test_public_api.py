import importlib

import pytest

MODULES = [
    "framewatch.config",
    "framewatch.data",
    "framewatch.errors",
    "framewatch.predictor",
    "framewatch.checkpoint",
    "framewatch.base_model",
    "framewatch.segment",
    "framewatch.serving.app",
    "framewatch.serving.batcher",
    "framewatch.metrics",
    "framewatch.thresholds",
    "framewatch.training.train",
    "framewatch.training.distributed",
    "framewatch.formats",
    "framewatch.scored_rows",
    "framewatch.resumable_output",
    "framewatch.batch_predict",
    "framewatch.spark",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name):
    module = importlib.import_module(name)
    assert module.__all__, name
    for symbol in module.__all__:
        assert hasattr(module, symbol), f"{name}.{symbol}"


def test_core_does_not_import_http_layer():
    import framewatch.predictor as predictor

    source = open(predictor.__file__).read()
    assert "fastapi" not in source and "serving" not in source
