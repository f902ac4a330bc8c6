"""Rows/s of Spark ``local[N]`` (framewatch.spark) against the single-process CLI, on the same Parquet file.

Both read the same file of short rows, score it with the same checkpoint and
write Parquet; each is timed end to end in this run (the CLI as its own
process, model load included; Spark from session start to written output,
worker start and model loads included). The ratio of their rows/s is printed;
nothing is asserted. Spark binds to 127.0.0.1 only (framewatch.spark.local_session).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from predict_memory import write_rows  # noqa: E402


def time_cli(checkpoint: Path, source: Path, target: Path, dtype: str) -> float:
    command = [sys.executable, "-m", "framewatch", "predict", "--checkpoint", str(checkpoint), "--input", str(source)]
    command += ["--output", str(target), "--dtype", dtype, "--no-progress"]
    started = time.perf_counter()
    subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def time_spark(checkpoint: Path, source: Path, target: Path, cores: int, dtype: str) -> float:
    from framewatch.spark import local_session, score_dataframe

    started = time.perf_counter()
    spark = local_session(cores, app_name="framewatch-benchmark")
    spark.sparkContext.setLogLevel("ERROR")
    frame = spark.read.parquet(str(source)).repartition(cores * 4)
    score_dataframe(frame, checkpoint, dtype=dtype).write.mode("overwrite").parquet(str(target))
    seconds = time.perf_counter() - started
    spark.stop()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("checkpoints/default"))
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--dtype", choices=["auto", "fp32", "bf16"], default="auto")
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.work_dir) as scratch:
        source = write_rows(Path(scratch) / "in.parquet", args.n)
        cli_s = time_cli(args.checkpoint, source, Path(scratch) / "cli.parquet", args.dtype)
        spark_s = time_spark(args.checkpoint, source, Path(scratch) / "spark.parquet", args.cores, args.dtype)
    print(f"rows: {args.n:,} short rows (Parquet in and out), dtype {args.dtype}, {os.cpu_count()} CPUs")
    print(f"framewatch predict, one process: {cli_s:7.1f} s  {args.n / cli_s:7.1f} rows/s")
    print(
        f"Spark local[{args.cores}]:               {spark_s:7.1f} s  {args.n / spark_s:7.1f} rows/s  "
        f"({cli_s / spark_s:.2f}x the CLI)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
