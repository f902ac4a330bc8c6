import numpy as np
import pytest

from framewatch.errors import InputError

TEXTS = [
    "Short one.",
    "A much longer sentence about a memorial unveiled by two governments to mark shared memory.",
    "They fell for the holy motherland.",
    "Rates unchanged.",
]


def test_scores_do_not_depend_on_batching(tiny_predictor):
    batched = tiny_predictor.score(TEXTS)
    single = np.vstack([tiny_predictor.score([t]) for t in TEXTS])
    assert batched.shape == (4, 3)
    np.testing.assert_allclose(batched, single, atol=1e-5)
    assert ((batched > 0) & (batched < 1)).all()


def test_labels_follow_thresholds(tiny_predictor):
    predictions = tiny_predictor.predict(TEXTS)
    scores = tiny_predictor.score(TEXTS)
    for prediction, row in zip(predictions, scores):
        expected = [lab for lab, s, t in zip(tiny_predictor.label_ids, row, tiny_predictor.thresholds) if s >= t]
        assert prediction.labels == expected
        assert list(prediction.scores) == tiny_predictor.label_ids


def test_bad_input(tiny_predictor):
    with pytest.raises(InputError):
        tiny_predictor.score("not a list")
    with pytest.raises(InputError):
        tiny_predictor.score(["fine", "  "])
    assert tiny_predictor.score([]).shape == (0, 3)


def test_auto_dtype_reason_is_recorded(tiny_checkpoint):
    from framewatch.predictor import Predictor

    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu", dtype="auto")
    assert predictor.dtype in {"fp32", "bf16"} and predictor.dtype_reason


def test_long_texts_are_scored_over_windows_as_their_maximum(tiny_predictor):
    """Every word counts: a text past max_length is the max over overlapping windows, each scored alone."""
    tokenizer = tiny_predictor.tokenizer
    filler = " ".join(f"word{i}" for i in range(150))
    scored = tiny_predictor.score_windows([filler, "Short one."])
    window = tiny_predictor.max_length - 2  # two special tokens per window
    stride = tiny_predictor.metadata.window_stride
    n_tokens = len(tokenizer(filler, add_special_tokens=False)["input_ids"])
    assert scored.windows.tolist()[1] == 1
    assert scored.windows[0] == 1 + -(-(n_tokens - window) // (window - stride))
    pieces = tokenizer(
        filler, truncation=True, max_length=tiny_predictor.max_length, stride=stride, return_overflowing_tokens=True
    )["input_ids"]
    assert len(pieces) == scored.windows[0]
    import torch

    with torch.no_grad():
        each = [torch.sigmoid(tiny_predictor.model(input_ids=torch.tensor([ids])).logits)[0].numpy() for ids in pieces]
    np.testing.assert_allclose(scored.scores[0], np.max(each, axis=0), atol=1e-5)


def test_token_budget_splits_forward_passes(tiny_checkpoint):
    from framewatch.predictor import PAD_MULTIPLE, Predictor

    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu", dtype="fp32", max_batch_tokens=64)
    sizes = []
    stage = "embed" if hasattr(predictor.model, "head") else "forward"  # the step that runs once per pass
    original = getattr(predictor.model, stage)

    def spy(**inputs):
        sizes.append(inputs["input_ids"].shape)
        return original(**inputs)

    setattr(predictor.model, stage, spy)
    predictor.score(TEXTS * 4)
    assert all(rows * length <= 64 or rows == 1 for rows, length in sizes)
    assert len(sizes) > 1
    assert all(length % PAD_MULTIPLE == 0 or length == predictor.max_length for _, length in sizes)


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_a_score_does_not_depend_on_what_shares_its_batch(probe_checkpoint, dtype):
    """The server batches concurrent requests together: one request's sentences must not move another's scores.

    Padding a window to different lengths moved bf16 scores by up to 1e-3; what is left is the
    last bits of float arithmetic (matrix kernels block by row count), far below the 6 decimals served.
    """
    from framewatch.predictor import Predictor

    predictor = Predictor.from_checkpoint(probe_checkpoint, device="cpu", dtype=dtype)
    mates = [f"Filler sentence {i} {'with extra words ' * (i % 7)}about the weather." for i in range(150)]
    alone = predictor.score(TEXTS)
    for mixed in (TEXTS + mates, mates[:40] + TEXTS + mates[40:], TEXTS[::-1] + mates[:3]):
        scores = predictor.score(mixed)
        rows = [mixed.index(text) for text in TEXTS]
        np.testing.assert_allclose(scores[rows], alone, rtol=0, atol=1e-6)


def test_predict_needs_only_a_checkpoint_outside_the_repository(tiny_checkpoint, tmp_path, monkeypatch):
    import json

    from framewatch.cli import main as cli

    monkeypatch.chdir(tmp_path)  # no configs/default.yaml here
    monkeypatch.delenv("FRAMEWATCH_CONFIG", raising=False)
    (tmp_path / "in.jsonl").write_text('{"text": "They fell for the holy motherland."}\n{"text": "Rates unchanged."}\n')
    code = cli(["predict", "--checkpoint", str(tiny_checkpoint), "--input", "in.jsonl", "--output", "out.jsonl"])
    assert code == 0
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["windows"] for r in rows] == [1, 1]
    assert len(rows) == 2 and all(
        set(r["scores"]) == {"sacred_mission", "unverified_historical_claim", "soft_diplomacy_symbolism"} for r in rows
    )
