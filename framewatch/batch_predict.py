"""``framewatch predict``: score a JSONL, CSV or Parquet file (or JSONL on stdin) in streamed chunks.

Each output row is the input row with ``labels``, ``scores`` and ``windows``
set (:mod:`framewatch.scored_rows`), in input order, in the format the output's
name says (:mod:`framewatch.formats`). Memory holds one chunk, not the file:
the input is read twice, once to check every row and count them (so a bad row
at the end is reported before any scoring, and the progress bar knows its
total), then chunk by chunk to score. ``--resume`` continues a killed run
where its output ends (:mod:`framewatch.resumable_output`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from framewatch.data import iter_rows, text_problem
from framewatch.errors import DataError, InputError
from framewatch.explain import explain_texts
from framewatch.formats import STDIO
from framewatch.predictor import Predictor, to_predictions
from framewatch.resumable_output import ResumableOutput, ResumePoint, jsonl_text, open_output
from framewatch.scored_rows import scored_row

__all__ = ["CHUNK_ROWS", "MAX_PROBLEMS", "count_rows", "main", "predict_chunks", "predict_records", "valid_rows"]

logger = logging.getLogger(__name__)

CHUNK_ROWS = 512
"""Rows scored and written together: the Predictor sorts each chunk by length, so larger chunks pad less."""
MAX_PROBLEMS = 1000
"""The check stops after this many malformed rows: enough to fix a file by, and memory stays bounded."""


def count_rows(path: str | Path) -> int:
    """Check every row of ``path`` and count them; raise :class:`DataError` naming each bad row's file and line."""
    count, problems = 0, []
    for line_no, row, problem in iter_rows(path):
        problem = problem or text_problem(row, f"{path}:{line_no}")
        if problem:
            problems.append(problem)
            if len(problems) >= MAX_PROBLEMS:
                problems.append(f"{path}: stopped checking after {MAX_PROBLEMS} problems")
                break
            continue
        count += 1
    if problems:
        raise DataError(problems)
    return count


def valid_rows(path: str | Path) -> Iterator[dict[str, Any]]:
    """The rows of ``path`` in order; the first malformed one raises (stdin cannot be checked ahead)."""
    for line_no, row, problem in iter_rows(path):
        problem = problem or text_problem(row, f"{path}:{line_no}")
        if problem:
            raise DataError([problem])
        yield row


def predict_chunks(
    predictor: Predictor, records: Iterable[dict[str, Any]], *, chunk_size: int = CHUNK_ROWS, explain: bool = False
) -> Iterator[list[dict[str, Any]]]:
    """Scored copies of ``records``, ``chunk_size`` at a time, in order; only one chunk is held at once.

    With ``explain``, each row also gets the occlusion evidence of the labels it carries (as the server's).
    """
    iterator = iter(records)
    while chunk := list(islice(iterator, chunk_size)):
        texts = [record["text"] for record in chunk]
        scored = predictor.score_windows(texts)
        decided = predictor.decide(scored.scores)
        predictions = to_predictions(scored, predictor.label_ids, decided)
        evidence: list[Any] = [None] * len(chunk)
        if explain:
            evidence = explain_texts(predictor.score, texts, scored.scores, decided, predictor.label_ids)
        yield [scored_row(r, p, e) for r, p, e in zip(chunk, predictions, evidence)]


def predict_records(
    predictor: Predictor, records: Iterable[dict[str, Any]], *, chunk_size: int = CHUNK_ROWS, explain: bool = False
) -> Iterator[dict[str, Any]]:
    """Scored copies of ``records`` one by one, in order (see :func:`predict_chunks`)."""
    for chunk in predict_chunks(predictor, records, chunk_size=chunk_size, explain=explain):
        yield from chunk


def _skip_done(rows: Iterator[dict[str, Any]], point: ResumePoint, output: Path) -> Iterator[dict[str, Any]]:
    """Drop the rows an earlier run completed, checking that its last one is this input's row at that place."""
    if point.rows == 0:
        return rows
    done = list(islice(rows, point.rows - 1, point.rows))
    if not done:
        raise InputError(f"--resume: {output} holds {point.rows} rows, more than the input has")
    if done[0].get("text") != point.last_text:
        raise InputError(
            f"--resume: row {point.rows} of the work file does not hold input row {point.rows}'s text: "
            f"it was written from another input; remove it or run without --resume"
        )
    return rows


def _write_stdout(chunks: Iterable[list[dict[str, Any]]], bar: tqdm) -> None:
    for chunk in chunks:
        sys.stdout.write(jsonl_text(chunk))
        bar.update(len(chunk))


def _check_complete(output: ResumableOutput, total: int | None) -> None:
    """``--resume`` of a run that finished: the output stands if it holds every input row, else it is an error."""
    published = output.published_rows()
    if total is not None and published != total:
        raise InputError(
            f"--resume: {output.path} is complete with {published} rows but the input has {total}; "
            "it was written from another input"
        )
    print(f"{output.path} is already complete ({published} rows)", file=sys.stderr)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint", type=Path, default=None, help="Checkpoint directory (default: serving.checkpoint)."
    )
    parser.add_argument(
        "--input", default=STDIO, help="JSONL, CSV or Parquet file with a 'text' field; '-' reads JSONL from stdin."
    )
    parser.add_argument(
        "--output",
        default=STDIO,
        help="Output file, its format from its suffix (.jsonl, .csv, .parquet); '-' writes JSONL to stdout.",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="Continue an interrupted run from where its output (OUTPUT.partial) ends; no row is lost or repeated.",
    )
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--dtype", choices=["auto", "fp32", "bf16"], default="auto")
    parser.add_argument(
        "--batch-size", type=int, default=16, help="Sentences per forward pass (16 was fastest on 2 CPU cores)."
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="Add 'evidence': for each label a row carries, the words whose deletion lowers its score most.",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Progress bar with rows/s on stderr (default: when stderr is a terminal).",
    )


def main(argv: list[str] | None = None) -> int:
    from framewatch.cli import add_config_arguments, configure_logging
    from framewatch.config import load_config_for_checkpoint

    parser = argparse.ArgumentParser(prog="framewatch predict", description=__doc__.splitlines()[0])
    add_config_arguments(parser)
    add_arguments(parser)
    args = parser.parse_args(argv)
    configure_logging()
    to_stdout = args.output == STDIO
    if args.resume and to_stdout:
        raise InputError("--resume needs --output FILE: what went to stdout cannot be read back")
    config = load_config_for_checkpoint(args.config, args.set, args.checkpoint)
    total = None if args.input == STDIO else count_rows(args.input)
    if total == 0:
        raise DataError([f"{args.input}: no rows to score"])
    output = None if to_stdout else open_output(args.output)
    if output is not None and args.resume and not output.partial.exists() and output.path.exists():
        _check_complete(output, total)
        return 0
    predictor = Predictor.from_checkpoint(
        args.checkpoint or config.serving.checkpoint, device=args.device, dtype=args.dtype, batch_size=args.batch_size
    )
    point = ResumePoint() if output is None else output.start(resume=args.resume)
    rows = _skip_done(valid_rows(args.input), point, output.partial if output else Path(STDIO))
    chunks = predict_chunks(predictor, rows, chunk_size=CHUNK_ROWS, explain=args.explain)
    show = sys.stderr.isatty() if args.progress is None else args.progress
    with tqdm(total=total, initial=point.rows, unit="row", desc="scoring", disable=not show, smoothing=0.1) as bar:
        if output is None:
            _write_stdout(chunks, bar)
            return 0
        written = point.rows
        try:
            for chunk in chunks:
                output.write(chunk)
                written += len(chunk)
                bar.update(len(chunk))
        finally:
            output.close()  # what was scored stays in OUTPUT.partial for --resume, even on Ctrl-C
    output.publish()
    logger.info("%d rows written to %s", written, output.path)
    return 0
