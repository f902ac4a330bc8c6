"""Tests against a live ``framewatch serve`` process on 127.0.0.1, bounded in count and time.

The server runs from a directory outside the repository, so these also show that a checkpoint is
enough on its own to serve.
"""

from __future__ import annotations

import concurrent.futures
import signal
import threading
import time

import httpx
import pytest

from tests.serving.live import ADMIN_KEY, LiveServer

ARTICLES = [
    " ".join(
        f"Report {a}.{i}: the council of district {a} met on day {i} and approved the budget. "
        + ("They gave their lives for a holy and eternal cause. " if i % 7 == a % 7 else "")
        + ("The two ministers laid a wreath at the memorial of the fallen. " if i % 5 == a % 5 else "")
        for i in range(12 + 3 * a)
    )
    for a in range(8)
]


@pytest.fixture
def live(probe_checkpoint, tmp_path):
    server = LiveServer(probe_checkpoint, tmp_path)
    yield server
    server.stop()


def _analyze(client: httpx.Client, text: str) -> dict:
    response = client.post("/v1/analyze", json={"text": text}, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


def test_concurrent_articles_get_exactly_their_single_threaded_answer(live):
    with httpx.Client(base_url=live.url) as client:
        expected = [_analyze(client, article) for article in ARTICLES]
    for article, answer in zip(ARTICLES, expected):
        assert " ".join(s["text"] for s in answer["sentences"]) == " ".join(article.split())

    def call(i: int) -> tuple[int, dict]:
        with httpx.Client(base_url=live.url) as client:
            return i % len(ARTICLES), _analyze(client, ARTICLES[i % len(ARTICLES)])

    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(call, range(200)))
    mismatched = [n for n, (i, answer) in enumerate(answers) if not _same_answer(answer, expected[i])]
    assert not mismatched, f"{len(mismatched)} of 200 answers differ from the single-threaded answer"


def _same_answer(answer: dict, expected: dict) -> bool:
    """Same sentences, offsets, labels and windows; scores equal up to float rounding (1e-6)."""
    if len(answer["sentences"]) != len(expected["sentences"]):
        return False
    for got, want in zip(answer["sentences"], expected["sentences"]):
        if {k: v for k, v in got.items() if k != "scores"} != {k: v for k, v in want.items() if k != "scores"}:
            return False
        if any(abs(got["scores"][label] - want["scores"][label]) > 1e-6 for label in want["scores"]):
            return False
    return True


def test_a_3000_sentence_article_is_scored_in_full_on_an_idle_server(live):
    article = " ".join(f"Item {i} was filed on time." for i in range(3000))
    with httpx.Client(base_url=live.url) as client:
        answer = _analyze(client, article)
    assert len(answer["sentences"]) == 3000


def test_a_cue_after_300_tokens_of_filler_raises_its_label(live):
    filler = " ".join(["the board met again"] * 75)  # 300 tokens, 1,500 characters
    cue = " and then they gave their lives for a holy and eternal sacred cause of martyrs"
    with httpx.Client(base_url=live.url) as client:
        plain, cued = client.post("/v1/classify", json={"texts": [filler, filler + cue]}).json()["results"]
    assert plain["windows"] >= 3 and cued["windows"] >= 3
    assert cued["scores"]["sacred_mission"] > plain["scores"]["sacred_mission"]


def _load(url: str, stop: threading.Event, outcomes: list, path: str = "/v1/classify", texts=None) -> None:
    texts = texts or ["The ministers laid a wreath.", "Rates were left unchanged."]
    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                response = client.post(path, json={"texts": texts})
                body = response.json() if response.status_code == 200 else {}
                outcomes.append((response.status_code, time.perf_counter() - started, body.get("model")))
            except httpx.TransportError as exc:
                outcomes.append((type(exc).__name__, time.perf_counter() - started, None))
                time.sleep(0.05)


def test_sigterm_drains_in_flight_work_refuses_new_work_and_exits_zero(probe_checkpoint, tmp_path):
    server = LiveServer(probe_checkpoint, tmp_path, "serving.drain_timeout_s=20")
    article = " ".join(f"Line {i} of a long report was read out." for i in range(600))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        in_flight = [
            pool.submit(httpx.post, f"{server.url}/v1/analyze", json={"text": article}, timeout=60) for _ in range(4)
        ]
        time.sleep(0.5)  # admitted and waiting for the model
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        refused = httpx.post(f"{server.url}/v1/classify", json={"texts": ["new work"]}, timeout=10)
        unready = httpx.get(f"{server.url}/readyz", timeout=10)
        answers = [f.result() for f in in_flight]
    code = server.process.wait(timeout=30)
    elapsed = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * 4
    assert all(len(a.json()["sentences"]) == 600 for a in answers)
    assert refused.status_code == 503 and "retry-after" in refused.headers
    assert unready.status_code == 503
    assert code == 0 and elapsed < 20, server.output()
    server.log.close()


def test_reload_under_load_loses_nothing_and_a_corrupt_checkpoint_changes_nothing(live, probe_checkpoint, tmp_path):
    import shutil

    from framewatch.checkpoint import load_metadata

    copy = tmp_path / "copy"
    shutil.copytree(probe_checkpoint, copy)
    corrupt = tmp_path / "corrupt"
    shutil.copytree(probe_checkpoint, corrupt)
    weights = corrupt / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    original = load_metadata(probe_checkpoint).checkpoint_id
    stop, outcomes = threading.Event(), []
    threads = [threading.Thread(target=_load, args=(live.url, stop, outcomes)) for _ in range(4)]
    for thread in threads:
        thread.start()
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    try:
        time.sleep(0.5)
        good = httpx.post(f"{live.url}/v1/admin/reload", json={"checkpoint": str(copy)}, headers=admin, timeout=60)
        time.sleep(0.5)
        bad = httpx.post(f"{live.url}/v1/admin/reload", json={"checkpoint": str(corrupt)}, headers=admin, timeout=60)
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert good.status_code == 200, good.text
    assert bad.status_code == 422 and good.json()["current"] == original  # same id: the copy of one checkpoint
    assert outcomes and all(status == 200 for status, _, _ in outcomes), {s for s, _, _ in outcomes}
    assert all(model == original for _, _, model in outcomes)
    info = httpx.get(f"{live.url}/v1/model").json()
    assert info["checkpoint_path"] == str(copy)


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def test_overload_gets_only_200_and_503_with_bounded_memory(probe_checkpoint, tmp_path, capsys):
    server = LiveServer(
        probe_checkpoint,
        tmp_path,
        "serving.max_queue_sentences=256",
        "serving.max_sentences_per_article=256",
        "serving.max_texts_per_request=64",
    )
    texts = [f"Sentence {i} about the memorial wreath and the holy cause of the fallen." for i in range(16)]
    try:
        # the sustainable rate, closed loop with 2 clients
        stop, probe = threading.Event(), []
        threads = [
            threading.Thread(target=_load, args=(server.url, stop, probe, "/v1/classify", texts)) for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join()
        sustainable = sum(1 for status, _, _ in probe if status == 200) / 3
        # three times that, open loop, for 20 s
        offered = 3 * sustainable
        peak = _rss_mib(server.process.pid)
        deadline = time.monotonic() + 20
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        with (
            concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool,
            httpx.Client(base_url=server.url, timeout=30, limits=limits) as client,
        ):
            futures = []
            next_send = time.monotonic()
            while time.monotonic() < deadline:
                futures.append(pool.submit(client.post, "/v1/classify", json={"texts": texts}))
                next_send += 1 / offered
                peak = max(peak, _rss_mib(server.process.pid))
                time.sleep(max(0.0, next_send - time.monotonic()))
            responses = [f.result() for f in futures]
    finally:
        code = server.stop()
    statuses = [r.status_code for r in responses]
    latencies = sorted(r.elapsed.total_seconds() for r in responses if r.status_code == 200)
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan")
    with capsys.disabled():
        print(
            f"\noverload: offered {offered:.1f} req/s (3x the sustainable {sustainable:.1f}) for 20 s: "
            f"{statuses.count(200)} x 200, {statuses.count(503)} x 503; p99 of the 200s {p99 * 1000:.0f} ms; "
            f"peak server RSS {peak:.0f} MiB"
        )
    assert set(statuses) <= {200, 503} and statuses.count(200) > 0
    assert peak < 3 * 1024, f"server RSS reached {peak:.0f} MiB"
    assert code == 0
