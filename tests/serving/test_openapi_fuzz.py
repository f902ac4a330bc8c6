"""Property-based run of every documented endpoint against the app's own OpenAPI schema."""

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth

from framewatch.config import ServingConfig
from framewatch.serving.app import create_app
from framewatch.serving.auth import KeyStore, hash_key
from tests.serving.fakes import FakePredictor

app = create_app(
    ServingConfig(max_texts_per_request=16, max_chars_per_text=500, max_chars_per_article=4000), FakePredictor()
)
app.state.services.keys = KeyStore([hash_key("fuzz-user-key")], [hash_key("fuzz-admin-key")])
schema = schemathesis.openapi.from_dict(app.openapi())  # no second lifespan: one batcher, one event loop


@pytest.fixture(scope="module")
def client():
    # One lifespan for the whole run: the batcher task lives on this client's event loop.
    with TestClient(app) as test_client:
        yield test_client


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, client):
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers={"Authorization": "Bearer fuzz-user-key"})
    response = client.request(**kwargs)
    # ignored_auth re-sends probes through schemathesis' own ASGI transport, on another event loop than
    # the batcher's; authentication is covered request by request in test_api.py::test_api_keys.
    case.validate_response(response, excluded_checks=[ignored_auth])


def test_every_route_documents_its_error_codes():
    spec = app.openapi()
    classify = spec["paths"]["/v1/classify"]["post"]["responses"]
    assert {"200", "400", "401", "413", "422", "500", "503"} <= set(classify)
    assert {"401", "403", "422"} <= set(spec["paths"]["/v1/admin/reload"]["post"]["responses"])
    assert "503" in spec["paths"]["/readyz"]["get"]["responses"]


def test_tei_predict_documents_the_configured_limits():
    inputs = app.openapi()["components"]["schemas"]["TEIPredictRequest"]["properties"]["inputs"]["anyOf"]
    one = next(v for v in inputs if v["type"] == "string")
    many = next(v for v in inputs if v["type"] == "array")
    assert one["maxLength"] == 500 and many["maxItems"] == 16 and many["items"]["maxLength"] == 500
