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
