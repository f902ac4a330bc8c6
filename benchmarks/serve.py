"""Server throughput and latency: framewatch serve against a naive per-request pipeline server.

Both run as real uvicorn servers on 127.0.0.1, one after the other, driven by the
same closed-loop load: C concurrent clients, each sending single sentences until a
fixed total is reached. Prints throughput, p50/p99 latency, errors and the ratio;
then sentences/second for /v1/analyze on an article, from 8 clients. The Predictor
alone, in this process, scores the same sentences in its own batches right before
and right after each load, while the server idles: the server's rate as a share of
it says what the HTTP layer and batching cost. Everything is
repeated for ``--rounds`` rounds and the medians are the result, because the
speed of a machine with shared cores drifts between minutes.

The load comes from ``hey`` (Debian package ``hey``) when it is installed: a Python
client on the same two cores spends as much CPU as the server and caps what can be
measured. Without it, an httpx asyncio client is used, and the numbers say more
about the client than about the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, free_port, percentile_ms, sentences  # noqa: E402


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        command, env={**os.environ, **env}, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.time() + 180
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code in (200, 404):
                    return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError("server did not become ready")


async def drive(
    port: int, path: str, payloads: list[dict], concurrency: int, accept: Callable[[httpx.Response], bool]
) -> dict:
    """``concurrency`` httpx clients posting ``payloads`` to ``path``; an answer ``accept`` refuses is an error."""
    latencies: list[float] = []
    errors = 0
    cursor = iter(payloads)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as client:

        async def worker() -> None:
            nonlocal errors
            for payload in cursor:
                started = time.perf_counter()
                try:
                    ok = accept(await client.post(path, json=payload))
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(payloads),
        "seconds": elapsed,
        "rps": len(payloads) / elapsed,
        "errors": errors,
        "p50_ms": percentile_ms(latencies, 50),
        "p99_ms": percentile_ms(latencies, 99),
    }


def _ok(response: httpx.Response) -> bool:
    return response.status_code == 200


def drive_hey(port: int, payload: dict, requests: int, concurrency: int, path: str = "/v1/classify") -> dict:
    """Fixed-count load from hey: ``requests`` POSTs of one JSON body to ``path``."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as body:
        json.dump(payload, body)
    try:
        out = subprocess.run(
            [
                "hey",
                "-n",
                str(requests),
                "-c",
                str(concurrency),
                "-m",
                "POST",
                "-T",
                "application/json",
                "-D",
                body.name,
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        ).stdout
    finally:
        os.unlink(body.name)

    def number(pattern: str) -> float:
        match = re.search(pattern, out)
        return float(match.group(1)) if match else float("nan")

    ok = sum(int(n) for n in re.findall(r"\[200\]\s+(\d+) responses", out))
    sent = requests // concurrency * concurrency  # hey gives each client an equal share
    return {
        "requests": sent,
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "errors": sent - ok,
        "p50_ms": number(r"50% in ([\d.]+) secs") * 1000,
        "p99_ms": number(r"99% in ([\d.]+) secs") * 1000,
    }


def model_busy_seconds(port: int) -> float:
    """Seconds framewatch serve's model thread has spent scoring batches, read from its /metrics."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return float(re.search(r"^framewatch_batch_duration_seconds_sum (\S+)$", text, re.M).group(1))


def with_model_busy(port: int, run: Callable[[], dict]) -> dict:
    """``run``'s result plus ``model_busy``: the share of its wall time the server's model was scoring.

    It separates what the server loses between batches from what the model itself costs.
    """
    busy, started = model_busy_seconds(port), time.perf_counter()
    result = run()
    elapsed = time.perf_counter() - started
    return {**result, "model_busy": (model_busy_seconds(port) - busy) / elapsed}


def load(port: int, requests: int, concurrency: int, *, measure_busy: bool = False) -> dict:
    if shutil.which("hey"):
        drive_hey(port, {"texts": [sentences(1)[0]]}, concurrency * 4, concurrency)  # warm-up
        run = functools.partial(drive_hey, port, {"texts": [sentences(1)[0]]}, requests, concurrency)
    else:
        asyncio.run(drive(port, "/v1/classify", [{"texts": [t]} for t in sentences(64)], concurrency, _ok))  # warm-up
        payloads = [{"texts": [t]} for t in sentences(requests)]
        run = functools.partial(asyncio.run, drive(port, "/v1/classify", payloads, concurrency, _ok))
    return with_model_busy(port, run) if measure_busy else run()


ARTICLE_PIECES = 40


def article() -> str:
    """40 benchmark sentences run together; the server's splitter finds the sentences inside them."""
    return " ".join(sentences(ARTICLE_PIECES))


def article_sentences() -> list[str]:
    from framewatch.segment import split_sentences

    return [span.text for span in split_sentences(article())]


def analyze_load(port: int, requests: int, concurrency: int) -> dict:
    """Articles per second on /v1/analyze; first checks that the server finds the article's sentences."""
    expected = len(article_sentences())
    answer = httpx.post(f"http://127.0.0.1:{port}/v1/analyze", json={"text": article()}, timeout=60)
    found = len(answer.json()["sentences"])
    if found != expected:
        raise RuntimeError(f"/v1/analyze found {found} sentences, split_sentences {expected}")
    if shutil.which("hey") is None:

        def complete(response: httpx.Response) -> bool:
            return response.status_code == 200 and len(response.json()["sentences"]) == expected

        asyncio.run(drive(port, "/v1/analyze", [{"text": article()}] * concurrency, concurrency, complete))  # warm-up
        return asyncio.run(drive(port, "/v1/analyze", [{"text": article()}] * requests, concurrency, complete))
    drive_hey(port, {"text": article()}, concurrency * 2, concurrency, "/v1/analyze")  # warm-up
    return drive_hey(port, {"text": article()}, requests, concurrency, "/v1/analyze")


def report(name: str, r: dict) -> None:
    print(
        f"{name:<28} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
        f"errors {r['errors']}/{r['requests']}"
    )


def load_predictor(checkpoint: Path, batch_size: int | None = None):
    """The Predictor with the batch budgets the server gives it (or its batches capped at ``batch_size``)."""
    from framewatch.config import load_config
    from framewatch.predictor import Predictor

    serving = load_config().serving
    return Predictor.from_checkpoint(
        checkpoint, batch_size=batch_size or serving.max_batch_size, max_batch_tokens=serving.max_batch_tokens
    )


def model_alone_rate(predictor, texts: list[str], seconds: float = 5.0) -> float:
    """Sentences/s of the Predictor scoring ``texts`` in its batches in this process: the model without a server.

    It is given the very sentences the load sends, so the ratio compares like with like.
    """
    predictor.score(texts[:128])  # warm-up
    scored, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        predictor.score(texts)
        scored += len(texts)
    return scored / (time.perf_counter() - started)


def around(measure: Callable[[], float], load: Callable[[], dict]) -> tuple[dict, float, float]:
    """Run ``load`` between two measurements of the Predictor alone, taken while the server idles.

    This machine's speed drifts by tens of percent over minutes (shared cores): a
    baseline taken right before and right after the load is the only fair one.
    """
    before = measure()
    result = load()
    return result, before, measure()


def one_round(args: argparse.Namespace, env: dict[str, str]) -> dict:
    """framewatch serve between measurements of the Predictor alone, then the naive server, and the ratios.

    ``single_at_concurrency`` caps the Predictor's batches at the number of clients: the most
    single-sentence requests a server can ever merge. It is context for the ratio, not its baseline.
    """
    predictor = load_predictor(args.checkpoint)
    capped = load_predictor(args.checkpoint, batch_size=args.concurrency)
    single_texts, article_texts = sentences(1) * 2048, article_sentences() * 48
    port = free_port()
    ours = start(
        [sys.executable, "-m", "framewatch", "serve", "--checkpoint", str(args.checkpoint), "--port", str(port)],
        env,
        port,
    )
    try:
        framewatch, single_before, single_after = around(
            lambda: model_alone_rate(predictor, single_texts),
            lambda: load(port, args.requests, args.concurrency, measure_busy=True),
        )
        capped_rate = model_alone_rate(capped, single_texts)
        analyze, article_before, article_after = around(
            lambda: model_alone_rate(predictor, article_texts),
            lambda: analyze_load(port, args.analyze_requests, args.analyze_concurrency),
        )
    finally:
        ours.terminate()
        ours.wait(30)

    port = free_port()
    naive = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "naive_server:app",
            "--app-dir",
            str(REPO / "benchmarks"),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        {**env, "NAIVE_CHECKPOINT": str(args.checkpoint), "NAIVE_DEVICE": args.baseline_device},
        port,
    )
    try:
        baseline = load(port, args.baseline_requests, args.concurrency)
    finally:
        naive.terminate()
        naive.wait(30)

    n_sentences = len(article_sentences())
    analyze_rate = analyze["rps"] * n_sentences
    report("framewatch serve", framewatch)
    print(f"{'':<28} the model was scoring {framewatch['model_busy']:.0%} of the time")
    report("naive pipeline server", baseline)
    print(
        f"/v1/analyze, {n_sentences}-sentence article, {args.analyze_concurrency} clients: "
        f"{analyze['rps']:.1f} articles/s = {analyze_rate:.1f} sentences/s  p50 {analyze['p50_ms']:.1f} ms  "
        f"p99 {analyze['p99_ms']:.1f} ms  errors {analyze['errors']}/{analyze['requests']}"
    )
    print(
        "the Predictor alone, batched, on the same sentences (right before / after each load): "
        f"single {single_before:.1f} / {single_after:.1f}, article {article_before:.1f} / {article_after:.1f}, "
        f"single in batches of {args.concurrency} {capped_rate:.1f} sentences/s"
    )
    single_alone = (single_before + single_after) / 2
    result = {
        "vs_naive": framewatch["rps"] / baseline["rps"],
        "p99_ms": framewatch["p99_ms"],
        "single_share": framewatch["rps"] / single_alone,
        "article_share": analyze_rate / ((article_before + article_after) / 2),
        "single_share_at_concurrency": framewatch["rps"] / capped_rate,
        "model_busy": framewatch["model_busy"],
    }
    print(
        f"ratios: {result['vs_naive']:.2f}x the naive server; the server delivers {result['single_share']:.0%} "
        f"of the Predictor on single sentences, {result['article_share']:.0%} on articles; "
        f"{result['single_share_at_concurrency']:.0%} of the Predictor held to batches of {args.concurrency}",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("checkpoints/default"))
    parser.add_argument("--rounds", type=int, default=3, help="Repeat everything; the medians are the result.")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--baseline-requests", type=int, default=600)
    parser.add_argument("--analyze-requests", type=int, default=200)
    parser.add_argument("--analyze-concurrency", type=int, default=8, help="Clients posting articles at once.")
    parser.add_argument("--baseline-device", default="cpu", help="Device of the naive server's pipeline.")
    args = parser.parse_args()
    env = {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}

    client = "hey" if shutil.which("hey") else "httpx (install hey for a lighter client)"
    print(f"{args.concurrency} concurrent clients ({client}), single-sentence /v1/classify requests, 127.0.0.1")
    rounds = []
    for number in range(1, args.rounds + 1):
        print(f"-- round {number} of {args.rounds}")
        rounds.append(one_round(args, env))
    median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    print(f"== medians over {args.rounds} rounds")
    print(f"throughput: {median['vs_naive']:.2f}x the naive server (target >= 5x)")
    print(f"p99 of framewatch serve: {median['p99_ms']:.1f} ms (target <= 250 ms)")
    print(
        f"share of the Predictor alone: {median['single_share']:.0%} on single sentences, "
        f"{median['article_share']:.0%} on articles (target >= 80%); context: "
        f"{median['single_share_at_concurrency']:.0%} of the Predictor held to batches of {args.concurrency}, "
        "the most single-sentence requests that many clients can put in one batch; "
        f"the server's model was scoring {median['model_busy']:.0%} of the time"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
