"""CUDA path check: the same checkpoint on the GPU agrees with its stored fp32 CPU reference.

Loads a checkpoint with ``device=cuda`` and ``dtype=auto``, reports which dtype was
chosen and why, measures the largest score difference from the reference for fp32 and
bf16, and times batch scoring on the GPU (fp32, bf16) against the CPU in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import sentences  # noqa: E402


def rate(predictor, texts: list[str]) -> float:
    predictor.score(texts[:256])  # warm-up (CUDA kernels, allocator)
    started = time.perf_counter()
    predictor.score(texts)
    if predictor.device.type == "cuda":
        import torch

        torch.cuda.synchronize()
    return len(texts) / (time.perf_counter() - started)


def main() -> int:
    import torch

    from framewatch.checkpoint import load_reference_outputs
    from framewatch.predictor import Predictor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("checkpoints/default"))
    parser.add_argument("--n", type=int, default=4000)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 1
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    reference = load_reference_outputs(args.checkpoint)
    expected = np.asarray(reference.scores, dtype=np.float32)
    auto = Predictor.from_checkpoint(args.checkpoint, device="cuda", dtype="auto", batch_size=128)
    print(f"dtype=auto chose {auto.dtype}: {auto.dtype_reason}")
    texts = sentences(args.n)
    results = {}
    for dtype in ("fp32", "bf16"):
        predictor = Predictor.from_checkpoint(args.checkpoint, device="cuda", dtype=dtype, batch_size=128)
        drift = float(np.abs(predictor.score(reference.texts) - expected).max())
        results[dtype] = rate(predictor, texts)
        print(f"cuda {dtype}: max |score - fp32 CPU reference| = {drift:.5f}; {results[dtype]:9.1f} sentences/s")
    cpu = Predictor.from_checkpoint(args.checkpoint, device="cpu", dtype="fp32", batch_size=64)
    cpu_rate = rate(cpu, texts[:1000])
    print(f"cpu fp32 ({torch.get_num_threads()} threads): {cpu_rate:9.1f} sentences/s")
    print(
        f"cuda fp32 / cpu: {results['fp32'] / cpu_rate:.1f}x; cuda bf16 / cuda fp32: "
        f"{results['bf16'] / results['fp32']:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
