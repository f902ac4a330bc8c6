import hashlib

import pytest

from framewatch.errors import CheckpointError
from tests.serving.conftest import make_client
from tests.serving.fakes import FakePredictor


def test_classify_scores_each_text_in_order(client):
    response = client.post(
        "/v1/classify", json={"texts": ["A holy war.", "Rates held.", "They supposedly laid a wreath."]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "fake-1"
    assert [r["labels"] for r in body["results"]] == [
        ["sacred_mission"],
        [],
        ["unverified_historical_claim", "soft_diplomacy_symbolism"],
    ]
    assert body["results"][0]["scores"]["sacred_mission"] == pytest.approx(0.9)
    assert [r["windows"] for r in body["results"]] == [1, 1, 1]


def test_analyze_returns_offsets_and_summary(client):
    text = "The envoy laid a wreath. Prices rose 2%.\n\nIt was supposedly a holy victory."
    response = client.post("/v1/analyze", json={"text": text})
    assert response.status_code == 200
    body = response.json()
    sentences = body["sentences"]
    assert [s["text"] for s in sentences] == [
        "The envoy laid a wreath.",
        "Prices rose 2%.",
        "It was supposedly a holy victory.",
    ]
    for s in sentences:
        assert text[s["start"] : s["end"]] == s["text"]
    summary = body["summary"]
    assert summary["soft_diplomacy_symbolism"] == {
        "sentences": 1,
        "max_score": pytest.approx(0.9),
        "share": pytest.approx(1 / 3, abs=1e-5),
    }
    assert summary["sacred_mission"]["sentences"] == 1


def test_model_health_ready_and_metrics(client):
    info = client.get("/v1/model").json()
    assert info["checkpoint_id"] == "fake-1" and info["device"] == "cpu" and info["dtype"] == "fp32"
    assert [lab["id"] for lab in info["labels"]] == [
        "sacred_mission",
        "unverified_historical_claim",
        "soft_diplomacy_symbolism",
    ]
    assert info["labels"][0]["description"] == "about sacred_mission" and info["labels"][0]["threshold"] == 0.5
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    client.post("/v1/classify", json={"texts": ["one", "two"]})
    client.post("/v1/classify", json={"texts": [""]})
    metrics = client.get("/metrics").text
    assert 'framewatch_requests_total{method="POST",route="/v1/classify",status="200"} 1.0' in metrics
    assert 'framewatch_requests_total{method="POST",route="/v1/classify",status="422"} 1.0' in metrics
    assert "framewatch_sentences_scored_total" in metrics and "framewatch_batch_size_bucket" in metrics
    assert 'framewatch_model_info{checkpoint_id="fake-1"' in metrics and "framewatch_queue_depth" in metrics
    assert "framewatch_model_worker_failures 0.0" in metrics and "framewatch_windows_scored" in metrics


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ({"texts": []}, 422, "texts"),
        ({"texts": ["ok", "   "]}, 422, "texts[1] is empty"),
        ({"texts": ["ok", 3]}, 422, "texts.1"),
        ({"texts": "not a list"}, 422, "texts"),
        ({"text": "wrong field"}, 422, "texts"),
        ({"texts": ["x"] * 5}, 422, "at most 4 per request"),
        ({"texts": ["y" * 101]}, 422, "at most 100"),
    ],
)
def test_classify_limits_and_validation(payload, status, fragment):
    with make_client(max_texts_per_request=4, max_chars_per_text=100) as client:
        response = client.post("/v1/classify", json=payload)
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]["message"] or fragment in str(response.json()["error"].get("details"))


def test_article_and_body_limits():
    with make_client(max_chars_per_article=50, max_body_bytes=2048) as client:
        too_long = client.post("/v1/analyze", json={"text": "word " * 20})
        assert too_long.status_code == 422 and "at most 50" in too_long.json()["error"]["message"]
        huge = client.post(
            "/v1/classify", content=b'{"texts": ["' + b"a" * 5000 + b'"]}', headers={"content-type": "application/json"}
        )
        assert huge.status_code == 413 and "exceeds 2048 bytes" in huge.json()["error"]["message"]

        def chunks():
            yield b'{"texts": ["'
            for _ in range(10):
                yield b"b" * 500
            yield b'"]}'

        chunked = client.post("/v1/classify", content=chunks(), headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        assert client.post("/v1/analyze", json={"text": " \n "}).status_code == 422
        malformed = client.post("/v1/classify", content=b'{"texts": [', headers={"content-type": "application/json"})
        assert malformed.status_code in (400, 422) and "error" in malformed.json()


def test_an_article_with_too_many_sentences_gets_422_naming_the_limit():
    with make_client(max_sentences_per_article=3) as client:
        many = client.post("/v1/analyze", json={"text": "One. Two. Three. Four."})
        assert many.status_code == 422 and "max_sentences_per_article" in many.json()["error"]["message"]


def test_overload_answers_503_with_retry_after():
    import concurrent.futures

    settings = {"max_queue_sentences": 8, "max_texts_per_request": 8, "max_sentences_per_article": 8}
    with make_client(FakePredictor(delay_s=0.3), max_batch_size=1, **settings) as client:
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            body = {"texts": ["a", "b", "c", "d", "e"]}
            calls = [pool.submit(client.post, "/v1/classify", json=body) for _ in range(4)]
            responses = [c.result() for c in calls]
    statuses = sorted(r.status_code for r in responses)
    assert 200 in statuses and 503 in statuses and set(statuses) <= {200, 503}
    refused = next(r for r in responses if r.status_code == 503)
    assert refused.headers["retry-after"] == "1" and "saturated" in refused.json()["error"]["message"]


def test_limits_that_cannot_be_met_together_are_refused():
    from pydantic import ValidationError

    from framewatch.config import ServingConfig

    with pytest.raises(ValidationError, match="could never be admitted"):
        ServingConfig(max_queue_sentences=100, max_texts_per_request=128)


def test_api_keys(monkeypatch, tmp_path):
    monkeypatch.setenv("FRAMEWATCH_API_KEYS", "user-key-1, user-key-2")
    monkeypatch.setenv("FRAMEWATCH_ADMIN_KEYS", "admin-key")
    key_file = tmp_path / "keys.sha256"
    key_file.write_text(f"# hashed keys\n{hashlib.sha256(b'file-key').hexdigest()}\n")
    with make_client(api_keys_file=key_file) as client:
        payload = {"texts": ["hello"]}
        assert client.post("/v1/classify", json=payload).status_code == 401
        wrong = client.post("/v1/classify", json=payload, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        for key in ("user-key-2", "file-key", "admin-key"):
            assert (
                client.post("/v1/classify", json=payload, headers={"Authorization": f"Bearer {key}"}).status_code == 200
            )
        assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
        assert client.post("/v1/admin/reload", headers={"Authorization": "Bearer user-key-1"}).status_code == 403
        assert client.post("/v1/admin/reload").status_code == 401


def test_openapi_documents_the_bearer_scheme_on_keyed_routes_only(client):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"] == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "API key, when the server is configured with keys.",
        }
    }
    for path, method in [
        ("/v1/classify", "post"),
        ("/v1/analyze", "post"),
        ("/predict", "post"),
        ("/info", "get"),
        ("/v1/model", "get"),
        ("/v1/admin/reload", "post"),
    ]:
        assert schema["paths"][path][method]["security"] == [{"HTTPBearer": []}], path
    for path in ("/healthz", "/readyz", "/metrics"):
        assert "security" not in schema["paths"][path]["get"], path


def test_admin_disabled_without_admin_keys(client):
    response = client.post("/v1/admin/reload", json={})
    assert response.status_code == 403 and "admin API disabled" in response.json()["error"]["message"]


def test_reload_swaps_and_refuses_bad_checkpoints(monkeypatch, tmp_path):
    monkeypatch.setenv("FRAMEWATCH_ADMIN_KEYS", "admin-key")
    replacements = {"good": FakePredictor("fake-2"), "broken": FakePredictor("fake-3", fail=True)}

    def loader(path):
        if path.name not in replacements:
            raise CheckpointError(f"checkpoint {path} does not exist")
        return replacements[path.name]

    auth = {"Authorization": "Bearer admin-key"}
    with make_client(loader=loader) as client:
        missing = client.post("/v1/admin/reload", json={"checkpoint": str(tmp_path / "missing")}, headers=auth)
        assert missing.status_code == 422 and "does not exist" in missing.json()["error"]["message"]
        broken = client.post("/v1/admin/reload", json={"checkpoint": str(tmp_path / "broken")}, headers=auth)
        assert broken.status_code == 422 and "smoke test failed" in broken.json()["error"]["message"]
        assert client.get("/v1/model").json()["checkpoint_id"] == "fake-1"  # old model still serving
        good = client.post("/v1/admin/reload", json={"checkpoint": str(tmp_path / "good")}, headers=auth)
        assert good.json() == {"previous": "fake-1", "current": "fake-2"}
        assert client.post("/v1/classify", json={"texts": ["x"]}).json()["model"] == "fake-2"
        assert 'checkpoint_id="fake-2"' in client.get("/metrics").text


def test_failed_batch_fails_the_request_with_a_clear_error():
    with make_client(predictor=FakePredictor()) as client:
        client.app.state.services.registry._predictor = FakePredictor("fake-broken", fail=True)
        response = client.post("/v1/classify", json={"texts": ["x"]})
    assert response.status_code == 500
    assert response.json()["error"] == {
        "type": "model_error",
        "message": ("model failed while scoring a batch of 1: RuntimeError: model exploded"),
    }


def test_unknown_route_is_a_json_404(client):
    response = client.get("/v2/nothing")
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found"
