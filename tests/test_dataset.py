"""The shipped dataset keeps its promises: sizes, label balance, no near-duplicates, leak-free splits."""

import json
from collections import Counter

from framewatch.data import validate_files
from tests.conftest import LABELS, SHIPPED

SPLITS = {
    split: [json.loads(line) for line in (SHIPPED / f"{split}.jsonl").read_text().splitlines()]
    for split in ("train", "dev", "test")
}
ROWS = [row for rows in SPLITS.values() for row in rows]


def test_files_validate_with_minimum_counts():
    report = validate_files([SHIPPED / f"{s}.jsonl" for s in SPLITS], LABELS)
    assert report.ok, report.problems[:5]  # includes the near-duplicate rule (Jaccard > 0.6)
    counts = report.counts()
    assert counts["sentences"] >= 3000
    assert all(counts[label] >= 600 for label in LABELS), counts
    assert counts["two_or_more_labels"] >= 400 and counts["none"] >= 1200


def test_every_row_has_the_documented_fields():
    for row in ROWS:
        assert {"id", "text", "labels", "group", "style", "note"} <= set(row), row["id"]
        assert 5 <= len(row["text"].split()) <= 60 or row["group"].startswith("seed-"), row["id"]
    assert len({row["id"] for row in ROWS}) == len(ROWS)
    assert sum(bool(row.get("hard_negative")) for row in ROWS) >= 500


def test_splits_are_by_group_and_about_70_15_15():
    groups = {split: {row["group"] for row in rows} for split, rows in SPLITS.items()}
    assert not groups["train"] & groups["dev"] and not groups["train"] & groups["test"]
    assert not groups["dev"] & groups["test"]
    total = len(ROWS)
    assert 0.65 < len(SPLITS["train"]) / total < 0.75
    assert 0.12 < len(SPLITS["dev"]) / total < 0.18 and 0.12 < len(SPLITS["test"]) / total < 0.18


def test_seed_article_is_included_and_spread_is_wide():
    seed = [row for row in ROWS if row["group"].startswith("seed-")]
    assert len(seed) >= 20
    countries = Counter(c for row in ROWS for c in row.get("countries", []))
    assert len(countries) >= 40
    assert len({row["style"] for row in ROWS}) >= 7
