from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from framewatch.config import ServingConfig
from framewatch.serving.app import create_app
from tests.serving.fakes import FakePredictor


def make_client(predictor=None, loader=None, **settings) -> TestClient:
    config = ServingConfig(**settings)
    app = create_app(config, predictor or FakePredictor(), loader=loader)
    return TestClient(app)


@pytest.fixture
def client():
    with make_client() as c:
        yield c
