"""Server throughput and latency: framewatch serve against a naive per-request pipeline server.

Both run as real uvicorn servers on 127.0.0.1, one after the other, driven by the
same closed-loop load: C concurrent clients, each sending single sentences until a
fixed total is reached. Prints throughput, p50/p99 latency, errors and the ratio;
then sentences/second for /v1/analyze on a 40-sentence article.

The load comes from ``hey`` (Debian package ``hey``) when it is installed: a Python
client on the same two cores spends as much CPU as the server and caps what can be
measured. Without it, an httpx asyncio client is used, and the numbers say more
about the client than about the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
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


async def drive(port: int, texts: list[str], concurrency: int) -> dict:
    latencies: list[float] = []
    errors = 0
    cursor = iter(range(len(texts)))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as client:

        async def worker() -> None:
            nonlocal errors
            for i in cursor:
                started = time.perf_counter()
                try:
                    response = await client.post("/v1/classify", json={"texts": [texts[i]]})
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(texts),
        "seconds": elapsed,
        "rps": len(texts) / elapsed,
        "errors": errors,
        "p50_ms": percentile_ms(latencies, 50),
        "p99_ms": percentile_ms(latencies, 99),
    }


def drive_hey(port: int, text: str, requests: int, concurrency: int) -> dict:
    """Fixed-count load from hey, one JSON body with one sentence."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as body:
        json.dump({"texts": [text]}, body)
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
                f"http://127.0.0.1:{port}/v1/classify",
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


def load(port: int, requests: int, concurrency: int) -> dict:
    if shutil.which("hey"):
        drive_hey(port, sentences(1)[0], concurrency * 4, concurrency)  # warm-up
        return drive_hey(port, sentences(1)[0], requests, concurrency)
    asyncio.run(drive(port, sentences(64), concurrency))  # warm-up
    return asyncio.run(drive(port, sentences(requests), concurrency))


async def analyze_rate(port: int, repeats: int) -> float:
    article = " ".join(sentences(40))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        n = len((await client.post("/v1/analyze", json={"text": article})).json()["sentences"])
        started = time.perf_counter()
        for _ in range(repeats):
            response = await client.post("/v1/analyze", json={"text": article})
            assert response.status_code == 200
        return n * repeats / (time.perf_counter() - started)


def report(name: str, r: dict) -> None:
    print(
        f"{name:<28} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
        f"errors {r['errors']}/{r['requests']}"
    )


def model_alone_rate(checkpoint: Path, n: int = 2000) -> float:
    """Sentences/s of the Predictor scoring in batches in this process: what the model can do without a server."""
    from framewatch.predictor import Predictor

    predictor = Predictor.from_checkpoint(checkpoint)
    texts = sentences(n)
    predictor.score(texts[:128])  # warm-up
    started = time.perf_counter()
    predictor.score(texts)
    return n / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("checkpoints/default"))
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--baseline-requests", type=int, default=600)
    parser.add_argument("--baseline-device", default="cpu", help="Device of the naive server's pipeline.")
    args = parser.parse_args()
    env = {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}

    port = free_port()
    ours = start(
        [sys.executable, "-m", "framewatch", "serve", "--checkpoint", str(args.checkpoint), "--port", str(port)],
        env,
        port,
    )
    try:
        framewatch = load(port, args.requests, args.concurrency)
        analyze = asyncio.run(analyze_rate(port, 10))
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

    predictor_rate = model_alone_rate(args.checkpoint)
    client = "hey" if shutil.which("hey") else "httpx (install hey for a lighter client)"
    print(f"{args.concurrency} concurrent clients ({client}), single-sentence /v1/classify requests, 127.0.0.1")
    report("framewatch serve", framewatch)
    report("naive pipeline server", baseline)
    print(f"throughput ratio: {framewatch['rps'] / baseline['rps']:.2f}x (target >= 5x; p99 target <= 250 ms)")
    print(f"/v1/analyze, 40-sentence article: {analyze:.1f} sentences/s")
    print(
        f"the Predictor alone, batched, same machine: {predictor_rate:.1f} sentences/s; the server delivers "
        f"{framewatch['rps'] / predictor_rate:.0%} of it on single sentences, "
        f"{analyze / predictor_rate:.0%} on articles (target >= 80%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
