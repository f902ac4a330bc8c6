import json

import pytest

from framewatch.cli import main as cli
from framewatch.data import find_near_duplicates, read_examples, read_records, validate_files
from framewatch.errors import DataError
from tests.conftest import LABELS, REPO


def _lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_every_validation_error_names_file_and_line(tmp_path):
    path = _lines(
        tmp_path / "bad.jsonl",
        [
            json.dumps({"text": "A fine sentence about the harvest.", "labels": []}),
            "{not json",
            json.dumps({"text": "Unknown label here.", "labels": ["propaganda"]}),
            json.dumps({"text": "   ", "labels": []}),
            json.dumps({"text": "Labels are not a list.", "labels": "sacred_mission"}),
            json.dumps({"text": "A fine sentence about the harvest.", "labels": []}),
            json.dumps({"labels": []}),
            json.dumps({"text": "No labels field at all."}),
            json.dumps(["a", "list"]),
        ],
    )
    with pytest.raises(DataError) as caught:
        read_examples(path, LABELS)
    problems = caught.value.problems
    expected = {
        2: "invalid JSON",
        3: "unknown label 'propaganda'",
        4: "empty text",
        5: "'labels' must be a list",
        6: "duplicate text (first seen at",
        7: "missing 'text'",
        8: "missing 'labels'",
        9: "expected a JSON object",
    }
    for line, fragment in expected.items():
        assert any(p.startswith(f"{path}:{line}:") and fragment in p for p in problems), (line, problems)
    assert len(problems) == len(expected)


def test_extra_fields_are_kept_and_csv_loads(tmp_path):
    path = _lines(
        tmp_path / "ok.jsonl",
        [json.dumps({"id": "x1", "text": "They died for a holy cause.", "labels": ["sacred_mission"], "note": "n"})],
    )
    (example,) = read_examples(path, LABELS)
    assert example.fields == {"id": "x1", "note": "n"} and example.labels == ("sacred_mission",)
    csv_path = tmp_path / "ok.csv"
    csv_path.write_text(
        'text,labels\n"Wreaths were laid, jointly.",soft_diplomacy_symbolism;sacred_mission\nRates were unchanged.,\n',
        encoding="utf-8",
    )
    rows = read_examples(csv_path, LABELS)
    assert rows[0].labels == ("soft_diplomacy_symbolism", "sacred_mission") and rows[1].labels == ()
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("text,labels\nfine,\nbad,nonsense_label\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{bad_csv}:3: unknown label 'nonsense_label'"):
        read_examples(bad_csv, LABELS)


def test_read_records_needs_text_only(tmp_path):
    path = _lines(tmp_path / "in.jsonl", [json.dumps({"text": "a b c"}), json.dumps({"text": ""})])
    with pytest.raises(DataError, match=r"in.jsonl:2: 'text' must be a non-empty string"):
        read_records(path)


def test_near_duplicates_are_found_exactly():
    texts = [
        "the army marched north to the river at dawn",
        "the army marched north to the river at night",
        "a completely different sentence about tariffs",
    ]
    pairs = find_near_duplicates(texts)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]
    assert pairs[0][2] == pytest.approx(7 / 9)  # 8 distinct words each, 7 shared
    assert find_near_duplicates(texts, threshold=0.85) == []


def test_validate_reports_counts_and_near_duplicates(tmp_path, capsys):
    path = _lines(
        tmp_path / "d.jsonl",
        [
            json.dumps({"text": "the army marched north to the river at dawn", "labels": []}),
            json.dumps({"text": "the army marched north to the river at night", "labels": ["sacred_mission"]}),
        ],
    )
    report = validate_files([path], LABELS)
    assert not report.ok and "near-duplicate" in report.problems[0]
    assert report.counts()["sacred_mission"] == 1 and report.counts()["none"] == 1
    config = REPO / "configs" / "default.yaml"
    assert cli(["data", "validate", "--config", str(config), str(path)]) == 1
    assert "near-duplicate" in capsys.readouterr().out
