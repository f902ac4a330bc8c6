"""Peak memory of ``framewatch predict`` on a large file against a small one, in the same run.

Writes two files of short rows (default 10,000 and 1,000,000), scores each with
``framewatch predict`` in its own process, and prints each run's peak resident
memory (from the kernel's accounting of that child alone), its rows/s, and the
ratio of the two peaks: streaming means the ratio stays near 1 however large
the file. No figure is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import short_rows  # noqa: E402


def write_rows(path: Path, n: int) -> Path:
    """``n`` short rows in ``path``'s format (from its suffix), written in blocks so this script stays small too."""
    from framewatch.resumable_output import open_output

    output = open_output(path)
    output.start(resume=False)
    block = 50_000
    for start in range(0, n, block):
        output.write(short_rows(start, min(block, n - start)))
    output.publish()
    return path


def measure(checkpoint: Path, source: Path, target: Path, batch_size: int) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of one ``framewatch predict`` process."""
    command = [sys.executable, "-m", "framewatch", "predict", "--checkpoint", str(checkpoint)]
    command += ["--input", str(source), "--output", str(target), "--batch-size", str(batch_size), "--no-progress"]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"framewatch predict failed on {source}")
    return usage.ru_maxrss / 1024, seconds  # ru_maxrss is in KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("checkpoints/default"))
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["jsonl", "csv", "parquet"], default="jsonl")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--work-dir", type=Path, default=None, help="Where the files go (default: a temporary one).")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.work_dir) as scratch:
        results = {}
        for n in (args.small, args.large):
            source = write_rows(Path(scratch) / f"in-{n}.{args.format}", n)
            target = Path(scratch) / f"out-{n}.{args.format}"
            peak_mib, seconds = measure(args.checkpoint, source, target, args.batch_size)
            results[n] = {"peak_rss_mib": round(peak_mib, 1), "seconds": round(seconds, 1)}
            print(
                f"{n:>9,} rows ({args.format}): peak RSS {peak_mib:7.1f} MiB, {seconds:8.1f} s, "
                f"{n / seconds:7.1f} rows/s (process start and model load included)",
                flush=True,
            )
            source.unlink()
            target.unlink()
    ratio = results[args.large]["peak_rss_mib"] / results[args.small]["peak_rss_mib"]
    print(f"peak RSS {args.large:,} rows / {args.small:,} rows: {ratio:.3f}x (streaming: stays near 1)")
    print(json.dumps({"format": args.format, "torch_threads": os.environ.get("OMP_NUM_THREADS"), "runs": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
