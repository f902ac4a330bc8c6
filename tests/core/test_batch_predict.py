"""``framewatch predict``: formats in and out, streaming, malformed rows, and resuming a killed run."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from framewatch import batch_predict, resumable_output
from framewatch.batch_predict import predict_chunks
from framewatch.cli import main as cli
from framewatch.errors import DataError, InputError
from framewatch.resumable_output import PARTIAL_SUFFIX, SCORE_COLUMN_PREFIX
from tests.conftest import LABELS, read_jsonl, write_jsonl

TEXTS = [
    "They fell for the holy motherland.",
    "Rates unchanged.",
    'A memorial, "unveiled" by two governments,\nmarks shared memory.',
    "Ancestors held this land since time immemorial.",
]


def _rows(n: int) -> list[dict]:
    return [
        {"id": i, "text": f"{TEXTS[i % len(TEXTS)]} ({i})", "labels": ["sacred_mission"] if i % 3 else []}
        for i in range(n)
    ]


def _write(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    elif path.suffix == ".csv":
        lines = ["id,text,labels"] + [
            f'{r["id"]},"{r["text"].replace(chr(34), chr(34) * 2)}",{";".join(r["labels"])}' for r in rows
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        write_jsonl(path, rows)
    return path


def _read(path: Path) -> list[dict]:
    """Output rows as JSONL gives them, whatever the format, so formats compare with one another."""
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    if path.suffix == ".csv":
        import csv

        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [
            {
                "id": r["id"],
                "text": r["text"],
                "gold_labels": [x for x in r["gold_labels"].split(";") if x],
                "labels": [x for x in r["labels"].split(";") if x],
                "scores": {label: float(r[SCORE_COLUMN_PREFIX + label]) for label in LABELS},
                "windows": int(r["windows"]),
            }
            for r in rows
        ]
    return read_jsonl(path)


def _predict(checkpoint: Path, source: Path, target: Path, *extra: str) -> int:
    """fp32, as ``tiny_predictor``: ``--dtype auto`` may pick bf16 on this CPU."""
    command = ["predict", "--checkpoint", str(checkpoint), "--input", str(source), "--output", str(target)]
    return cli([*command, "--dtype", "fp32", *extra])


def _assert_same_rows(got: list[dict], expected: list[dict]) -> None:
    assert [(str(r["id"]), r["text"], r["gold_labels"], r["windows"]) for r in got] == [
        (str(r["id"]), r["text"], r["gold_labels"], r["windows"]) for r in expected
    ]
    scores = np.array([[r["scores"][label] for label in LABELS] for r in got])
    reference = np.array([[r["scores"][label] for label in LABELS] for r in expected])
    np.testing.assert_allclose(scores, reference, atol=2e-5)  # rounded to 6 places; chunks pad differently


@pytest.mark.parametrize("source_suffix", [".jsonl", ".csv", ".parquet"])
@pytest.mark.parametrize("target_suffix", [".jsonl", ".csv", ".parquet"])
def test_every_format_in_and_out_gives_the_predictor_scores(
    tiny_checkpoint, tiny_predictor, tmp_path, source_suffix, target_suffix
):
    rows = _rows(40)
    source = _write(tmp_path / f"in{source_suffix}", rows)
    target = tmp_path / f"out{target_suffix}"
    assert _predict(tiny_checkpoint, source, target) == 0
    got = _read(target)
    predictions = tiny_predictor.predict([r["text"] for r in rows])
    expected = [
        {**r, "gold_labels": r["labels"], "labels": p.labels, "scores": p.scores, "windows": p.windows}
        for r, p in zip(rows, predictions)
    ]
    _assert_same_rows(got, expected)
    assert [r["labels"] for r in got] == [p.labels for p in predictions]
    assert not target.with_name(target.name + PARTIAL_SUFFIX).exists()


def test_chunks_are_read_lazily(tiny_predictor):
    """Streaming: two chunks come out of an endless input, which a reader of the whole file would never finish."""
    endless = ({"text": f"Sentence number {i}."} for i in itertools.count())
    chunks = list(itertools.islice(predict_chunks(tiny_predictor, endless, chunk_size=8), 2))
    assert [len(c) for c in chunks] == [8, 8] and chunks[1][0]["text"] == "Sentence number 8."


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("bad.jsonl", '{"text": "fine"}\n{"text": ""}\n', "bad.jsonl:2:"),
        ("bad.csv", "id,text\n1,fine\n2,\n", "bad.csv:3:"),
        ("bad.parquet", None, "bad.parquet:2:"),
    ],
)
def test_a_malformed_row_is_named_before_anything_is_scored(tiny_checkpoint, tmp_path, name, content, where):
    source = tmp_path / name
    if content is None:
        pq.write_table(pa.Table.from_pylist([{"text": "fine"}, {"text": "  "}, {"text": "also fine"}]), source)
    else:
        source.write_text(content, encoding="utf-8")
    target = tmp_path / "out.jsonl"
    with pytest.raises(DataError, match=where):
        batch_predict.main(["--checkpoint", str(tiny_checkpoint), "--input", str(source), "--output", str(target)])
    assert not target.exists() and not target.with_name(target.name + PARTIAL_SUFFIX).exists()


def test_progress_bar_shows_rows_per_second(tiny_checkpoint, tmp_path, capsys):
    source = _write(tmp_path / "in.jsonl", _rows(30))
    assert _predict(tiny_checkpoint, source, tmp_path / "out.jsonl", "--progress") == 0
    err = capsys.readouterr().err
    assert "30/30" in err and "row/s" in err


class _Interrupt(Exception):
    pass


def _interrupt_after(monkeypatch, writes: int) -> None:
    calls = {"n": 0}
    for cls in (resumable_output.JsonlOutput, resumable_output.CsvOutput, resumable_output.ParquetOutput):
        real = cls.write

        def write(self, rows, real=real):
            calls["n"] += 1
            if calls["n"] > writes:
                raise _Interrupt
            return real(self, rows)

        monkeypatch.setattr(cls, "write", write)


def _tear(partial: Path) -> None:
    """What a kill in the middle of a write leaves: half a record at the end, or a part not yet renamed."""
    if partial.is_dir():
        (partial / "part-999999.parquet.tmp").write_bytes(b"PAR1 half a part")
    else:
        with partial.open("ab") as handle:
            handle.write(b'{"id": 12345, "text": "half a rec')


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_resume_after_an_interruption_loses_and_repeats_nothing(tiny_checkpoint, tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(batch_predict, "CHUNK_ROWS", 16)
    monkeypatch.setattr(resumable_output, "PARQUET_PART_ROWS", 32)
    source = _write(tmp_path / f"in{suffix}", _rows(150))
    reference = tmp_path / f"reference{suffix}"
    assert _predict(tiny_checkpoint, source, reference) == 0

    target = tmp_path / f"out{suffix}"
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 5)  # 80 rows written; parquet: parts of 32, the last 16 flushed as the run stops
        with pytest.raises(_Interrupt):
            _predict(tiny_checkpoint, source, target)
    assert partial.exists() and not target.exists()
    _tear(partial)
    assert _predict(tiny_checkpoint, source, target, "--resume") == 0
    _assert_same_rows(_read(target), _read(reference))
    assert not partial.exists()


def test_resume_refuses_the_work_file_of_another_input(tiny_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setattr(batch_predict, "CHUNK_ROWS", 8)
    source = _write(tmp_path / "in.jsonl", _rows(40))
    target = tmp_path / "out.jsonl"
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 2)
        with pytest.raises(_Interrupt):
            _predict(tiny_checkpoint, source, target)
    other = _write(tmp_path / "other.jsonl", [{**r, "text": r["text"].upper()} for r in _rows(40)])
    with pytest.raises(InputError, match="another input"):
        batch_predict.main(
            ["--checkpoint", str(tiny_checkpoint), "--input", str(other), "--output", str(target), "--resume"]
        )


def test_resume_of_a_finished_run_checks_it_and_stops(tiny_checkpoint, tmp_path, capsys):
    source = _write(tmp_path / "in.jsonl", _rows(20))
    target = tmp_path / "out.jsonl"
    assert _predict(tiny_checkpoint, source, target) == 0
    before = target.read_bytes()
    assert _predict(tiny_checkpoint, source, target, "--resume") == 0
    assert "already complete (20 rows)" in capsys.readouterr().err and target.read_bytes() == before
    longer = _write(tmp_path / "in.jsonl", _rows(25))
    with pytest.raises(InputError, match="complete with 20 rows but the input has 25"):
        batch_predict.main(
            ["--checkpoint", str(tiny_checkpoint), "--input", str(longer), "--output", str(target), "--resume"]
        )


def test_kill_9_then_resume_matches_an_uninterrupted_run(tiny_checkpoint, tmp_path):
    """A real ``kill -9`` of a live process, wherever it is in its write, then ``--resume``."""
    source = _write(tmp_path / "in.jsonl", _rows(2000))
    reference = tmp_path / "reference.jsonl"
    assert _predict(tiny_checkpoint, source, reference) == 0

    target = tmp_path / "out.jsonl"
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    command = [sys.executable, "-m", "framewatch", "predict", "--checkpoint", str(tiny_checkpoint)]
    command += ["--input", str(source), "--output", str(target), "--dtype", "fp32"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    deadline = time.monotonic() + 120
    while not (partial.exists() and partial.stat().st_size > 0):
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode()
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert not target.exists()
    done = len(partial.read_bytes().splitlines())
    assert 0 < done < 2000
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    _assert_same_rows(read_jsonl(target), read_jsonl(reference))


@pytest.mark.parametrize("target_suffix", [".jsonl", ".parquet"])
def test_explain_writes_the_evidence_of_each_label_a_row_carries(probe_checkpoint, tmp_path, target_suffix):
    rows = _rows(12)
    source = _write(tmp_path / "in.jsonl", rows)
    target = tmp_path / f"out{target_suffix}"
    assert _predict(probe_checkpoint, source, target, "--explain") == 0
    if target_suffix == ".parquet":
        got = [{**r, "evidence": dict(r["evidence"])} for r in pq.read_table(target).to_pylist()]
    else:
        got = read_jsonl(target)
    assert len(got) == len(rows)
    assert any(r["labels"] for r in got), "no row carries a label: nothing was explained"
    for row in got:
        assert set(row["evidence"]) == set(row["labels"])
        for spans in row["evidence"].values():
            for span in spans:
                assert row["text"][span["start"] : span["end"]] == span["text"] and span["weight"] > 0
