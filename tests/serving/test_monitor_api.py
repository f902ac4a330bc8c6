"""The monitor's API surface: explanations, the TEI-compatible routes, drift and timing metrics, the page."""

from __future__ import annotations

import re
import threading
import time

import numpy as np
import pytest
import uvicorn

from framewatch.config import ServingConfig
from framewatch.drift import drift_reference
from framewatch.serving.app import create_app
from tests.conftest import free_port
from tests.serving.conftest import make_client
from tests.serving.fakes import LABELS, FakePredictor

ARTICLE = "They laid a wreath at the memorial. Talks resume on Monday. The holy war, supposedly, began in 1939."


def _metric(text: str, name: str, **labels: str) -> float:
    selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(selector) + r"\}" if labels else "") + r" (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    assert match, f"{name} {labels} not in /metrics"
    return float(match.group(1))


def test_classify_explains_each_flagged_label_with_spans_of_the_submitted_text(client):
    texts = ["They laid a wreath at the memorial.", "Talks resume on Monday."]
    answer = client.post("/v1/classify", json={"texts": texts, "explain": True}).json()
    first, second = answer["results"]
    assert first["labels"] == ["soft_diplomacy_symbolism"]
    [top, *_] = first["evidence"]["soft_diplomacy_symbolism"]
    assert texts[0][top["start"] : top["end"]] == top["text"] == "wreath"
    assert top["weight"] == pytest.approx(0.8)
    assert second["evidence"] == {}
    plain = client.post("/v1/classify", json={"texts": texts}).json()
    assert "evidence" not in plain["results"][0]  # no explain: no evidence field at all


def test_analyze_evidence_offsets_point_into_the_article(client):
    answer = client.post("/v1/analyze", json={"text": ARTICLE, "explain": True}).json()
    found = {}
    for sentence in answer["sentences"]:
        assert set(sentence["evidence"]) == set(sentence["labels"])
        for label, spans in sentence["evidence"].items():
            assert ARTICLE[spans[0]["start"] : spans[0]["end"]] == spans[0]["text"]
            found[label] = spans[0]["text"]
    assert found == {
        "soft_diplomacy_symbolism": "wreath",
        "sacred_mission": "holy",
        "unverified_historical_claim": "supposedly",
    }


def test_explaining_more_flagged_sentences_than_the_limit_is_a_422_naming_it():
    with make_client(max_explain_sentences=1) as client:
        response = client.post("/v1/classify", json={"texts": ["holy one", "holy two"], "explain": True})
        assert response.status_code == 422
        assert "serving.max_explain_sentences" in response.json()["error"]["message"]
        assert client.post("/v1/classify", json={"texts": ["holy one", "plain"], "explain": True}).status_code == 200


def test_model_info_publishes_the_request_limits(client):
    limits = client.get("/v1/model").json()["limits"]
    assert limits == {
        "max_texts_per_request": 128,
        "max_chars_per_text": 2000,
        "max_chars_per_article": 100000,
        "max_sentences_per_article": 5000,
        "max_explain_sentences": 64,
    }


def test_tei_predict_single_and_batch_are_sorted_sigmoid_scores(client):
    single = client.post("/predict", json={"inputs": "A holy cause."})
    assert single.status_code == 200
    body = single.json()
    assert [p["label"] for p in body][0] == "sacred_mission"
    assert [p["score"] for p in body] == sorted((p["score"] for p in body), reverse=True)
    assert {p["label"] for p in body} == set(LABELS)
    assert sum(p["score"] for p in body) == pytest.approx(0.9 + 0.1 + 0.1)  # sigmoid per label, not a softmax
    batch = client.post("/predict", json={"inputs": ["A holy cause.", "A wreath."]}).json()
    assert len(batch) == 2 and batch[1][0]["label"] == "soft_diplomacy_symbolism"
    raw = client.post("/predict", json={"inputs": "A holy cause.", "raw_scores": True}).json()
    assert raw[0]["score"] == pytest.approx(np.log(0.9 / 0.1), abs=1e-4)


def test_tei_predict_truncates_only_when_asked(client):
    long_text = "word " * 400 + "holy"
    windows = client.post("/v1/classify", json={"texts": [long_text[:1999]]}).json()["results"][0]["windows"]
    assert windows == 2  # the fake counts a window per 1000 characters unless asked to truncate
    predictor = client.app.state.services.registry.current
    predictor.batches.clear()
    client.post("/predict", json={"inputs": long_text[:1999], "truncate": True, "truncation_direction": "left"})
    assert predictor.batches == [1]


def test_tei_errors_use_tei_envelope_and_codes(client):
    empty = client.post("/predict", json={"inputs": []})
    assert empty.status_code == 400 and empty.json() == {"error": "`inputs` cannot be empty", "error_type": "Empty"}
    too_many = client.post("/predict", json={"inputs": ["x"] * 129})
    assert too_many.status_code == 422 and too_many.json()["error_type"] == "Validation"
    assert "maximum allowed batch size 128" in too_many.json()["error"]
    blank = client.post("/predict", json={"inputs": "   "})
    assert blank.status_code == 422 and set(blank.json()) == {"error", "error_type"}
    pairs = client.post("/predict", json={"inputs": [["a", "b"]]})
    assert pairs.status_code == 422 and pairs.json()["error_type"] == "Validation"


def test_tei_overload_is_429_and_model_failure_is_424():
    with make_client() as client:
        client.app.state.services.registry._predictor = FakePredictor("fake-broken", fail=True)
        response = client.post("/predict", json={"inputs": "holy"})
        assert response.status_code == 424 and response.json()["error_type"] == "Backend"
    with make_client(
        predictor=FakePredictor(delay_s=0.5),
        max_queue_sentences=2,
        max_texts_per_request=2,
        max_sentences_per_article=2,
        max_batch_size=1,
    ) as client:
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: client.post("/predict", json={"inputs": ["a", "b"]}), range(8)))
        overloaded = [r for r in statuses if r.status_code == 429]
        assert overloaded and overloaded[0].json()["error_type"] == "Overloaded"
        assert overloaded[0].headers["Retry-After"] == "1"
        assert {r.status_code for r in statuses} <= {200, 429}


def test_tei_info_describes_the_classifier(client):
    info = client.get("/info").json()
    assert info["model_type"]["classifier"]["id2label"] == {str(k): label for k, label in enumerate(LABELS)}
    assert info["model_type"]["classifier"]["label2id"] == {label: k for k, label in enumerate(LABELS)}
    assert info["max_client_batch_size"] == 128 and info["auto_truncate"] is False
    assert info["model_id"] == "fake-1"


def _with_reference(predictor: FakePredictor) -> FakePredictor:
    rng = np.random.default_rng(0)
    scores = rng.uniform(0.0, 0.2, size=(1000, len(LABELS))).astype(np.float32)
    predictor.metadata = predictor.metadata.model_copy(
        update={"drift_reference": drift_reference(scores, scores >= 0.5, LABELS)}
    )
    return predictor


def test_metrics_expose_drift_positives_and_request_timing():
    with make_client(predictor=_with_reference(FakePredictor()), drift_window=200) as client:
        before = client.get("/metrics").text
        assert _metric(before, "framewatch_drift_window_sentences") == 0
        assert _metric(before, "framewatch_drift_positive_rate", label="sacred_mission", source="reference") == 0
        client.post("/v1/classify", json={"texts": ["a holy war"] * 50 + ["plain words"] * 50})
        client.post("/predict", json={"inputs": "plain"})
        text = client.get("/metrics").text
    assert _metric(text, "framewatch_drift_window_sentences") == 101
    assert _metric(text, "framewatch_label_positive_total", label="sacred_mission") == 50
    assert _metric(text, "framewatch_drift_positive_rate", label="sacred_mission", source="served") == pytest.approx(
        50 / 101, abs=1e-6
    )
    # Served scores 0.9 and 0.1 against a reference spread over 0..0.2: a large shift for sacred_mission.
    assert _metric(text, "framewatch_drift_psi", label="sacred_mission") > 1.0
    assert _metric(text, "framewatch_request_queue_duration_seconds_count") == 2
    assert _metric(text, "framewatch_request_inference_duration_seconds_count") == 2
    assert _metric(text, "framewatch_request_input_tokens_sum") > 0
    served = r'framewatch_drift_score_share\{label="sacred_mission",le="[^"]+",source="served"\} (\S+)'
    shares = re.findall(served, text)
    assert len(shares) == 10 and sum(map(float, shares)) == pytest.approx(1.0)


def test_explanation_variants_do_not_count_as_served_sentences():
    with make_client(predictor=_with_reference(FakePredictor())) as client:
        client.post("/v1/classify", json={"texts": ["a holy war of many words here"], "explain": True})
        text = client.get("/metrics").text
    assert _metric(text, "framewatch_drift_window_sentences") == 1
    assert _metric(text, "framewatch_label_positive_total", label="sacred_mission") == 1


def test_the_page_and_its_assets_are_served_without_external_resources(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for asset in ("static/app.js", "static/style.css"):
        assert asset in page.text
        response = client.get("/" + asset)
        assert response.status_code == 200
        assert not re.search(r"https?://", response.text), f"{asset} refers to an external resource"
    assert not re.search(r"(src|href)=\"https?://", page.text)


@pytest.fixture
def uvicorn_url():
    """The fake-predictor app behind a real uvicorn on 127.0.0.1, for HTTP clients that need a socket."""
    port = free_port()
    app = create_app(ServingConfig(), FakePredictor())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_huggingface_hub_inference_client_reads_predict(uvicorn_url, monkeypatch):
    """A real TEI client, pointed at this server (its offline switch also blocks loopback, so it is lifted here)."""
    from huggingface_hub import InferenceClient, constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    client = InferenceClient(base_url=f"{uvicorn_url}/predict")
    result = client.text_classification("They laid a wreath at the memorial.")
    # For TEI's flat answer to one string, the client keeps its first element: the top label.
    top = result[0] if isinstance(result, list) else result
    assert (top.label, top.score) == ("soft_diplomacy_symbolism", pytest.approx(0.9))
