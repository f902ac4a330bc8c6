"""Occlusion evidence: spans, variants, weights, and faithfulness on a real model."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from framewatch.explain import MAX_OCCLUSIONS_PER_TEXT, explain_texts, plan_occlusion, word_spans
from tests.conftest import read_jsonl

LABELS = ["holy", "wreath"]
SHIPPED_TEST = Path(__file__).resolve().parents[2] / "datasets" / "framing-v1" / "test.jsonl"


def keyword_scores(texts: list[str]) -> np.ndarray:
    """0.9 for a label whose keyword is in the text, else 0.1."""
    return np.array([[0.9 if label in t.lower() else 0.1 for label in LABELS] for t in texts], dtype=np.float32)


def test_word_spans_skip_punctuation_and_keep_inner_apostrophes_and_hyphens():
    text = "The nation's war-time deeds, they said — holy!"
    assert [text[a:b] for a, b in word_spans(text)] == ["The", "nation's", "war-time", "deeds", "they", "said", "holy"]


def test_each_variant_deletes_exactly_one_word():
    text = "A holy war."
    plan = plan_occlusion(text)
    assert plan.variants == [" holy war.", "A  war.", "A holy ."]


def test_a_variant_with_nothing_left_is_not_scored_and_counts_as_zero():
    assert plan_occlusion("Holy!").variants == ["!"]  # punctuation is left to score
    plan = plan_occlusion("Holy")
    assert plan.variants == [None] and plan.texts_to_score == []
    [evidence] = explain_texts(keyword_scores, ["Holy"], keyword_scores(["Holy"]), np.array([[True, False]]), LABELS)
    assert evidence["holy"][0].text == "Holy" and evidence["holy"][0].weight == pytest.approx(0.9)


def test_long_texts_are_occluded_in_groups_that_cover_every_word():
    text = " ".join(f"w{i}" for i in range(3 * MAX_OCCLUSIONS_PER_TEXT + 5))
    plan = plan_occlusion(text)
    assert len(plan.variants) <= MAX_OCCLUSIONS_PER_TEXT
    covered = [w for a, b in plan.spans for w in text[a:b].split()]
    assert covered == text.split()


def test_evidence_names_the_word_that_carries_each_label_with_offsets_into_the_text():
    texts = ["They laid a wreath for the holy fallen.", "Talks resume on Monday."]
    scores = keyword_scores(texts)
    decided = scores >= 0.5
    evidence = explain_texts(keyword_scores, texts, scores, decided, LABELS)
    assert evidence[1] == {}
    assert set(evidence[0]) == {"holy", "wreath"}
    for label, spans in evidence[0].items():
        top = spans[0]
        assert texts[0][top.start : top.end] == top.text == label
        assert top.weight == pytest.approx(0.8)
        assert all(span.weight > 0 for span in spans)  # words whose deletion changes nothing are not evidence


def test_deleting_the_top_evidence_lowers_the_score_more_than_deleting_random_words(probe_checkpoint):
    """Faithfulness on a fixed set: flagged framing-v1 test sentences, top-2 evidence words vs 2 random words."""
    from framewatch.predictor import Predictor

    predictor = Predictor.from_checkpoint(probe_checkpoint, device="cpu", dtype="fp32")
    texts = [row["text"] for row in read_jsonl(SHIPPED_TEST) if row["labels"]][:60]
    scores = predictor.score(texts)
    decided = predictor.decide(scores)
    evidence = explain_texts(predictor.score, texts, scores, decided, predictor.label_ids)
    rng = random.Random(0)
    wins, trials = 0, 0
    for text, row, spans_by_label in zip(texts, scores, evidence):
        for label, spans in spans_by_label.items():
            k = predictor.label_ids.index(label)
            top = spans[:2]
            words = word_spans(text)
            if len(top) < 2 or len(words) < 6:
                continue
            chosen = rng.sample([w for w in words if w not in {(s.start, s.end) for s in top}], len(top))
            top_drop = row[k] - predictor.score([_delete(text, [(s.start, s.end) for s in top])])[0, k]
            random_drop = row[k] - predictor.score([_delete(text, chosen)])[0, k]
            wins += top_drop > random_drop
            trials += 1
    share = wins / trials
    print(f"faithfulness: top-2 evidence deletion beat 2 random words in {wins}/{trials} = {share:.1%}")
    assert trials >= 20
    assert share >= 0.75


def _delete(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + text[end:]
    return text
