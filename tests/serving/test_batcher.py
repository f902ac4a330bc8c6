import asyncio

import numpy as np
import pytest

from framewatch.errors import ModelError, OverloadedError
from framewatch.serving.batcher import Batcher
from tests.serving.conftest import make_client
from tests.serving.fakes import FakePredictor


def _batcher(**overrides) -> Batcher:
    settings = {"max_batch_size": 64, "max_wait_ms": 20, "max_queue_sentences": 1000}
    return Batcher(**(settings | overrides))


def test_concurrent_requests_share_batches_and_get_their_own_results():
    predictor = FakePredictor(delay_s=0.02)

    async def scenario():
        batcher = _batcher()
        batcher.start()
        texts = [[f"request {i} holy" if i % 3 == 0 else f"request {i} wreath", f"second {i}"] for i in range(40)]
        results = await asyncio.gather(*(batcher.score(predictor, t) for t in texts))
        await batcher.stop()
        return texts, results, batcher.stats

    texts, results, stats = asyncio.run(scenario())
    for request_texts, scored in zip(texts, results):
        np.testing.assert_array_equal(scored.scores, predictor.score(request_texts))
        assert scored.windows.tolist() == [1] * len(request_texts)
    assert predictor.threads == {"framewatch-model_0"}
    assert stats.sentences == 80
    assert stats.batches < 40, f"{stats.batches} batches for 40 requests"


def test_http_concurrency_batches_requests():
    import concurrent.futures

    predictor = FakePredictor(delay_s=0.05)
    with make_client(predictor=predictor, max_wait_ms=20) as client:

        def call(i):
            text = f"sentence {i} holy" if i % 2 else f"sentence {i}"
            return i, client.post("/v1/classify", json={"texts": [text]}).json()

        with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
            answers = list(pool.map(call, range(48)))
    for i, body in answers:
        assert body["results"][0]["labels"] == (["sacred_mission"] if i % 2 else [])
    served = [size for size in predictor.batches[1:]]  # first batch is the warm-up smoke test
    assert sum(served) == 48 and len(served) < 48


def test_batch_size_bounds_batches():
    predictor = FakePredictor()

    async def scenario(**limits):
        batcher = _batcher(**limits)
        batcher.start()
        await asyncio.gather(*(batcher.score(predictor, ["x" * 400]) for _ in range(10)))
        await batcher.stop()
        return list(batcher.stats.batch_sizes)

    assert max(asyncio.run(scenario(max_batch_size=3))) <= 3


def test_empty_request_resolves_at_once():
    async def scenario():
        batcher = _batcher()
        return await batcher.score(FakePredictor(), [])  # not even started: nothing to wait for

    scored = asyncio.run(scenario())
    assert scored.scores.shape == (0, 3) and scored.windows.shape == (0,)


def test_a_dead_worker_fails_waiters_turns_unready_and_restarts(caplog):
    predictor = FakePredictor(delay_s=0.01)
    calls = {"n": 0}

    def explode_once(size, seconds):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("metrics hook broke")

    async def scenario():
        batcher = _batcher(max_batch_size=2, max_wait_ms=1, on_batch=explode_once, restart_delay_s=0.05)
        batcher.start()
        requests = (batcher.score(predictor, [f"s{i}"]) for i in range(6))
        outcomes = await asyncio.gather(*requests, return_exceptions=True)
        unready = not batcher.ready
        await asyncio.sleep(0.1)
        after = await batcher.score(predictor, ["after restart"])
        await batcher.stop()
        return outcomes, unready, after, batcher.stats.worker_failures

    outcomes, unready, after, failures = asyncio.run(scenario())
    assert failures == 1 and unready
    # the batch whose hook broke was already scored and answered; every request queued behind it learns why
    assert all(isinstance(o, ModelError) and "metrics hook broke" in str(o) for o in outcomes[2:])
    assert after.scores.shape == (1, 3)
    assert "model worker failed" in caplog.text


def test_a_request_never_waits_past_its_deadline():
    slow = FakePredictor(delay_s=0.5)

    async def scenario():
        batcher = _batcher(request_timeout_s=0.1, max_wait_ms=1)
        batcher.start()
        with pytest.raises(OverloadedError, match="request_timeout_s") as caught:
            await batcher.score(slow, ["slow"])
        await batcher.stop()
        return caught.value.retry_after_s

    assert asyncio.run(scenario()) >= 1


def test_failed_batch_fails_every_waiter():
    async def scenario():
        batcher = _batcher()
        batcher.start()
        broken = FakePredictor(fail=True)
        outcomes = await asyncio.gather(*(batcher.score(broken, ["a"]) for _ in range(5)), return_exceptions=True)
        await batcher.stop()
        return outcomes

    outcomes = asyncio.run(scenario())
    assert all(isinstance(o, ModelError) and "model exploded" in str(o) for o in outcomes)


def test_cancelled_requests_are_skipped():
    predictor = FakePredictor()

    async def scenario():
        batcher = _batcher(max_wait_ms=50)
        batcher.start()
        doomed = asyncio.ensure_future(batcher.score(predictor, ["cancel me"] * 5))
        await asyncio.sleep(0)
        doomed.cancel()
        kept = await batcher.score(predictor, ["keep me"])
        await batcher.stop()
        return kept

    kept = asyncio.run(scenario())
    assert kept.scores.shape == (1, 3)
    assert predictor.batches == [1]


def test_queue_bound_refuses_instead_of_growing():
    async def scenario():
        batcher = _batcher(max_queue_sentences=4)
        with pytest.raises(OverloadedError, match="not accepting work"):
            await batcher.score(FakePredictor(), ["a"])  # not started yet
        batcher.start()
        with pytest.raises(OverloadedError, match="saturated"):
            await batcher.score(FakePredictor(), ["a"] * 5)
        await batcher.stop()

    asyncio.run(scenario())


def test_requests_are_pinned_to_their_predictor():
    old, new = FakePredictor("old"), FakePredictor("new")

    async def scenario():
        batcher = _batcher(max_wait_ms=30)
        batcher.start()
        await asyncio.gather(batcher.score(old, ["a", "b"]), batcher.score(new, ["c"]), batcher.score(old, ["d"]))
        await batcher.stop()

    asyncio.run(scenario())
    assert sum(old.batches) == 3 and sum(new.batches) == 1


def test_stop_drains_queued_work_before_exiting():
    predictor = FakePredictor(delay_s=0.01)

    async def scenario():
        batcher = _batcher(max_batch_size=4, max_wait_ms=50)
        batcher.start()
        pending = [asyncio.ensure_future(batcher.score(predictor, [f"s{i}"])) for i in range(12)]
        await asyncio.sleep(0)  # requests enqueued, none scored yet
        await batcher.stop()
        return await asyncio.gather(*pending)

    results = asyncio.run(scenario())
    assert len(results) == 12 and all(r.scores.shape == (1, 3) for r in results)
