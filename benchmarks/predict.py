"""Batch scoring: framewatch's Predictor against transformers.pipeline called one sentence at a time.

Both score the same 1,000 sentences with the same checkpoint in this process; the
ratio of their throughputs is printed. No time is asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import sentences  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("checkpoints/default"))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from transformers import pipeline

    from framewatch.batch_predict import predict_records
    from framewatch.predictor import Predictor

    texts = sentences(args.n)
    records = [{"text": t} for t in texts]
    timings = {}
    for dtype in ("fp32", "bf16"):
        predictor = Predictor.from_checkpoint(args.checkpoint, device=args.device, dtype=dtype, batch_size=16)
        list(predict_records(predictor, records[:64]))  # warm-up
        started = time.perf_counter()
        ours = list(predict_records(predictor, records))
        timings[dtype] = time.perf_counter() - started
    auto = Predictor.from_checkpoint(args.checkpoint, device=args.device, dtype="auto")

    baseline = pipeline("text-classification", model=str(args.checkpoint), top_k=None, device=args.device)
    baseline(texts[:8])  # warm-up
    started = time.perf_counter()
    theirs = [baseline(text) for text in texts]
    theirs_s = time.perf_counter() - started

    assert len(ours) == len(theirs) == len(texts)
    print(f"sentences: {len(texts)} on {args.device}, torch threads {__import__('torch').get_num_threads()}")
    print(f"pipeline, one at a time:         {theirs_s:7.2f} s  {len(texts) / theirs_s:8.1f} sentences/s")
    for dtype, seconds in timings.items():
        print(
            f"framewatch predict, {dtype} (batched): {seconds:7.2f} s  {len(texts) / seconds:8.1f} sentences/s  "
            f"speed-up {theirs_s / seconds:.2f}x (target >= 3x)"
        )
    print(f"--dtype auto here chooses {auto.dtype}: {auto.dtype_reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
