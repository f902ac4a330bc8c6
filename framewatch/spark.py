"""Scoring a Spark DataFrame's text column with a checkpoint (optional extra ``framewatch[spark]``).

:func:`score_dataframe` adds the columns ``framewatch predict`` writes
(``labels``, ``scores``, ``windows``; see :mod:`framewatch.scored_rows`) to any
DataFrame with a text column, through ``pyspark.ml.functions.predict_batch_udf``.
The function shipped to the executors carries the checkpoint's *path*, never
its weights: each Python worker loads the checkpoint from that path the first
time it scores and keeps it for every later batch and task (the path must be
readable on every executor: a shared filesystem or the same copy on each node).
Scores come from the same :class:`~framewatch.predictor.Predictor` as the CLI,
so a row gets the same answer from both.

Spark needs a Java runtime (17 or later). :func:`local_session` starts Spark on
this machine alone, every socket bound to 127.0.0.1.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framewatch.batch_predict import CHUNK_ROWS
from framewatch.checkpoint import load_metadata
from framewatch.scored_rows import GOLD_LABELS, LABELS, SCORES, WINDOWS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from framewatch.predictor import Predictor

__all__ = ["LOOPBACK", "local_session", "predictors_loaded", "score_dataframe"]

LOOPBACK = "127.0.0.1"
_RESULT = "__framewatch_result"
_loads: list[str] = []


@functools.lru_cache(maxsize=4)
def _worker_predictor(checkpoint: str, device: str, dtype: str, batch_size: int) -> Predictor:
    """The predictor of this Python worker process, loaded on its first batch and kept for every later one."""
    from framewatch.predictor import Predictor

    _loads.append(checkpoint)
    return Predictor.from_checkpoint(checkpoint, device=device, dtype=dtype, batch_size=batch_size)


def predictors_loaded() -> int:
    """How many times this process has loaded a checkpoint for Spark (once per checkpoint and setting)."""
    return len(_loads)


def _score_field(label: str) -> str:
    return f"{_RESULT}_score_{label}"


def _result_type(label_ids: list[str]):
    from pyspark.sql.types import ArrayType, DoubleType, IntegerType, StringType, StructField, StructType

    scores = [StructField(_score_field(label), DoubleType()) for label in label_ids]
    return StructType([*scores, StructField(LABELS, ArrayType(StringType())), StructField(WINDOWS, IntegerType())])


def score_dataframe(
    frame: DataFrame,
    checkpoint: str | Path,
    *,
    text_column: str = "text",
    batch_size: int = CHUNK_ROWS,
    model_batch_size: int = 16,
    device: str = "cpu",
    dtype: str = "auto",
) -> DataFrame:
    """``frame`` with ``labels`` (array of label ids), ``scores`` (struct, one double per label) and ``windows``.

    A ``labels`` column already in ``frame`` is kept as ``gold_labels``, as
    ``framewatch predict`` does. ``batch_size`` rows go to the model together
    (the Predictor sorts them by length); ``model_batch_size`` is its forward
    pass, as ``--batch-size`` of the CLI. Only the label schema is read on the
    driver; the weights are read on the executors.
    """
    import numpy as np
    import pyspark.sql.functions as F
    from pyspark.ml.functions import predict_batch_udf

    path = str(Path(checkpoint).resolve())
    label_ids = load_metadata(path).label_ids

    def make_predict_fn():
        predictor = _worker_predictor(path, device, dtype, model_batch_size)

        def predict(texts: np.ndarray) -> list[dict[str, Any]]:
            rows = []
            for prediction in predictor.predict([str(text) for text in texts]):
                row: dict[str, Any] = {_score_field(label): prediction.scores[label] for label in label_ids}
                row[LABELS] = np.array(prediction.labels, dtype=object)
                row[WINDOWS] = prediction.windows
                rows.append(row)
            return rows

        return predict

    score = predict_batch_udf(make_predict_fn, return_type=_result_type(label_ids), batch_size=batch_size)
    if LABELS in frame.columns:
        frame = frame.withColumnRenamed(LABELS, GOLD_LABELS)
    result = F.col(_RESULT)
    scores = F.struct(*[result[_score_field(label)].alias(label) for label in label_ids])
    return frame.withColumn(_RESULT, score(F.col(text_column))).select(
        *[F.col(name) for name in frame.columns],
        result[LABELS].alias(LABELS),
        scores.alias(SCORES),
        result[WINDOWS].alias(WINDOWS),
    )


def local_session(cores: int = 2, *, app_name: str = "framewatch") -> SparkSession:
    """A Spark session on this machine only (``local[cores]``), bound to loopback with no web UI.

    By default the driver would listen on the machine's network address; here
    every socket stays on 127.0.0.1. Executors run this Python interpreter, so
    they import the same framewatch.
    """
    from pyspark.sql import SparkSession

    os.environ["SPARK_LOCAL_IP"] = LOOPBACK
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.driver.host", LOOPBACK)
        .config("spark.driver.bindAddress", LOOPBACK)
        .config("spark.ui.enabled", "false")
        .config("spark.python.worker.reuse", "true")  # what lets a worker keep its loaded checkpoint
        .config("spark.sql.shuffle.partitions", str(cores))
        .getOrCreate()
    )
