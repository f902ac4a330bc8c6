import json

import numpy as np
import pytest

from framewatch.annotation.formats import (
    from_doccano,
    from_label_studio,
    label_studio_config,
    to_doccano,
    to_label_studio,
)
from framewatch.annotation.select import parse_mix, select
from framewatch.annotation.tools_cli import uncertainty
from framewatch.cli import main as cli
from framewatch.config import LabelSpec
from framewatch.errors import ConfigError, DataError

LABELS = ["a", "b"]
TEXTS = [f"sentence number {i}" + (" holy" if i % 10 == 0 else "") for i in range(200)]
SCORES = np.stack([np.linspace(0, 1, 200), np.linspace(1, 0, 200)], axis=1).astype(np.float32)
THRESHOLDS = np.array([0.5, 0.3], dtype=np.float32)


def _select(seed=0, n=40, mix="random=0.25,uncertain=0.25,top=0.25,cue=0.25"):
    return select(
        TEXTS,
        n,
        parse_mix(mix),
        label_ids=LABELS,
        scores=SCORES,
        thresholds=THRESHOLDS,
        cues={"a": r"\bholy\b"},
        seed=seed,
    )


def test_select_is_deterministic_distinct_and_follows_the_mix():
    chosen = _select()
    assert chosen == _select() and chosen != _select(seed=1)
    assert len({c.index for c in chosen}) == 40
    counts = {s: sum(c.stratum == s for c in chosen) for s in ("random", "uncertain", "top", "cue")}
    assert counts == {"random": 10, "uncertain": 10, "top": 10, "cue": 10}
    assert all("holy" in TEXTS[c.index] for c in chosen if c.stratum == "cue")
    top_a = [c.index for c in chosen if c.stratum == "top" and c.target_label == "a"]
    top_b = [c.index for c in chosen if c.stratum == "top" and c.target_label == "b"]
    by_cue = {c.index for c in chosen if c.stratum == "cue"}  # cue runs first; top takes the best of the rest
    assert top_a == [i for i in range(199, -1, -1) if i not in by_cue][:5]
    assert top_b == [i for i in range(200) if i not in by_cue][:5]
    for c in chosen:
        if c.stratum == "uncertain":
            k = LABELS.index(c.target_label)
            assert abs(SCORES[c.index, k] - THRESHOLDS[k]) < 0.05


def test_select_can_spend_the_label_specific_budget_on_chosen_labels():
    chosen = select(
        TEXTS,
        20,
        parse_mix("top=0.5,uncertain=0.5"),
        label_ids=LABELS,
        scores=SCORES,
        thresholds=THRESHOLDS,
        target_labels=["b"],
    )
    assert {c.target_label for c in chosen} == {"b"}
    assert sorted(c.index for c in chosen if c.stratum == "top") == list(range(10))
    with pytest.raises(ConfigError, match="unknown target label"):
        select(TEXTS, 5, parse_mix("random=1"), label_ids=LABELS, target_labels=["z"])


def test_select_needs_a_model_for_model_strategies_and_a_big_enough_pool():
    with pytest.raises(ConfigError, match="need a checkpoint"):
        select(TEXTS, 5, parse_mix("top=1"), label_ids=LABELS)
    with pytest.raises(ConfigError, match="only 200"):
        select(TEXTS, 500, parse_mix("random=1"), label_ids=LABELS)
    with pytest.raises(ConfigError, match="strategy=share"):
        parse_mix("magic=1")


def test_uncertainty_is_highest_on_a_threshold():
    values = uncertainty(np.array([[0.5, 0.0], [1.0, 1.0]]), np.array([0.5, 0.3]))
    assert values[0] == pytest.approx(1.0) and values[1] == pytest.approx(0.0)


ROWS = [
    {"id": "r1", "text": "They died for the holy motherland.", "stratum": "top"},
    {"id": "r2", "text": "Rates were unchanged.", "stratum": "random"},
]


def _annotation(who, choices):
    result = [{"from_name": "labels", "to_name": "text", "type": "choices", "value": {"choices": choices}}]
    return {"id": 7, "completed_by": who, "result": result if choices else [], "was_cancelled": False}


def test_label_studio_round_trip_keeps_rows_and_annotators_apart(tmp_path):
    tasks = to_label_studio(ROWS, predicted=[["a"], []], uncertainty=[0.9, 0.1], model_version="ck-1")
    assert tasks[0]["predictions"][0]["score"] == 0.9
    assert tasks[0]["predictions"][0]["result"][0]["value"]["choices"] == ["a"]
    # what Label Studio exports after two annotators labelled the tasks
    for task_id, task in enumerate(tasks, 1):
        task["id"] = task_id
    tasks[0]["annotations"] = [_annotation(1, ["a"]), _annotation({"id": 2, "email": "x@y"}, ["a", "b"])]
    tasks[1]["annotations"] = [_annotation(1, []), _annotation(2, [])]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))
    first, second = from_label_studio(export, LABELS)
    assert {k: first[k] for k in ROWS[0]} == ROWS[0] and {k: second[k] for k in ROWS[1]} == ROWS[1]
    assert first["annotations"] == {"1": ["a"], "x@y": ["a", "b"]} and first["labels"] == ["a"]
    assert first["agreement"] is False and second["agreement"] is True and second["labels"] == []
    # the pre-annotations alone import back as the model's labels
    predictions = from_label_studio(export, LABELS, use="predictions")
    assert [r["labels"] for r in predictions] == [["a"], []]


def test_label_studio_import_names_every_problem(tmp_path):
    bad = [
        {"id": 1, "data": {"text": "x"}, "annotations": [_annotation(1, ["zzz"])]},
        {"id": 2, "data": {}, "annotations": [_annotation(1, [])]},
        {"id": 3, "data": {"text": "y"}, "annotations": []},
    ]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(DataError) as info:
        from_label_studio(path, LABELS)
    problems = info.value.problems
    assert problems[0].startswith(f"{path}: task 0 (id 1)") and "unknown label(s) 'zzz'" in problems[0]
    assert "task 1 (id 2): data.text is missing" in problems[1]
    assert "task 2 (id 3): no annotation to import" in problems[2]


def test_label_studio_config_lists_the_schema():
    xml = label_studio_config([LabelSpec(id="a", name="A", description='say "x"'), LabelSpec(id="b", name="B")])
    assert '<Choices name="labels" toName="text" choice="multiple"' in xml
    assert '<Choice value="a" alias="a" hint="say &quot;x&quot;"/>' in xml and 'value="b"' in xml


def test_doccano_round_trip_and_one_file_per_annotator(tmp_path):
    labelled = [dict(ROWS[0], labels=["a"]), dict(ROWS[1], labels=[])]
    lines = to_doccano(labelled)
    assert lines[0]["label"] == ["a"] and lines[0]["row_id"] == "r1" and "id" not in lines[0]
    alice = tmp_path / "alice.jsonl"
    bob = tmp_path / "bob.jsonl"
    alice.write_text("".join(json.dumps(dict(line, id=n)) + "\n" for n, line in enumerate(lines)))
    assert from_doccano([alice], LABELS) == labelled  # a file written by export imports back unchanged
    bob.write_text(json.dumps(dict(lines[0], label=["b"])) + "\n" + json.dumps(lines[1]) + "\n")
    merged = from_doccano([alice, bob], LABELS)
    assert merged[0]["annotations"] == {"alice": ["a"], "bob": ["b"]} and merged[0]["labels"] == []
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": ["q"]}\n{"text": "y"}\nnot json\n')
    with pytest.raises(DataError) as info:
        from_doccano([bad], LABELS)
    assert [p.split(": ")[0] for p in info.value.problems] == [f"{bad}:1", f"{bad}:2", f"{bad}:3"]


def test_annotate_cli_select_export_import(tmp_path, tiny_checkpoint, tiny_config):
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"id": f"p{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS[:60])))
    chosen = tmp_path / "chosen.jsonl"
    args = ["--config", str(tiny_config), "--pool", str(pool), "--n", "12", "--checkpoint", str(tiny_checkpoint)]
    assert cli(["annotate", "select", *args, "--mix", "random=0.5,top=0.5", "--output", str(chosen)]) == 0
    rows = [json.loads(line) for line in chosen.read_text().splitlines()]
    assert len(rows) == 12 and {r["stratum"] for r in rows} == {"random", "top"}
    tasks = tmp_path / "tasks.json"
    assert (
        cli(
            [
                "annotate",
                "export",
                "--input",
                str(chosen),
                "--format",
                "label-studio",
                "--checkpoint",
                str(tiny_checkpoint),
                "--output",
                str(tasks),
            ]
        )
        == 0
    )
    assert (tmp_path / "tasks.label_config.xml").read_text().count("<Choice ") == 3
    back = tmp_path / "back.jsonl"
    assert (
        cli(
            [
                "annotate",
                "import",
                "--config",
                str(tiny_config),
                "--format",
                "label-studio",
                "--use",
                "predictions",
                "--input",
                str(tasks),
                "--output",
                str(back),
            ]
        )
        == 0
    )
    imported = [json.loads(line) for line in back.read_text().splitlines()]
    assert [r["id"] for r in imported] == [r["id"] for r in rows]
    assert all(r["text"] == s["text"] and r["stratum"] == s["stratum"] for r, s in zip(imported, rows))
