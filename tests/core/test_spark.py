"""``framewatch.spark`` on ``local[2]``, bound to 127.0.0.1: the same scores as ``framewatch predict``.

Spark needs a Java runtime and pyspark (the ``[spark]`` extra). Outside CI a
machine without them skips these tests and says why; under CI (``CI=true``,
where ``.ci/run`` installs both) their absence fails.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from framewatch.cli import main as cli
from tests.conftest import LABELS, read_jsonl

pytestmark = pytest.mark.slow


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime for Spark (apt-get install -y default-jre-headless)"
    return None


@pytest.fixture(scope="module")
def spark():
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Spark tests: {missing}")
        pytest.skip(missing)
    from framewatch.spark import local_session

    session = local_session(2, app_name="framewatch-tests")
    yield session
    session.stop()


LONG = " ".join(f"word{i}" for i in range(90))  # past the tiny model's 48-token window: scored over windows


def _rows(n: int) -> list[dict]:
    texts = ["They fell for the holy motherland.", "Rates unchanged.", LONG, "The envoy laid a wreath."]
    return [
        {"id": i, "text": f"{texts[i % 4]} {i}", "labels": ["sacred_mission"] if i % 5 == 0 else []} for i in range(n)
    ]


def test_spark_scores_equal_the_cli_on_the_same_file(spark, tiny_checkpoint, tmp_path):
    from framewatch.spark import score_dataframe

    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(_rows(240)), source)
    cli_output = tmp_path / "out.jsonl"
    assert (
        cli(
            [
                "predict",
                "--checkpoint",
                str(tiny_checkpoint),
                "--input",
                str(source),
                "--output",
                str(cli_output),
                "--dtype",
                "fp32",
            ]
        )
        == 0
    )
    expected = {row["id"]: row for row in read_jsonl(cli_output)}

    frame = spark.read.parquet(str(source)).repartition(6)
    scored = score_dataframe(frame, tiny_checkpoint, batch_size=32, dtype="fp32")
    assert scored.columns == ["id", "text", "gold_labels", "labels", "scores", "windows"]
    got = {row["id"]: row.asDict(recursive=True) for row in scored.collect()}

    assert sorted(got) == sorted(expected)
    ids = sorted(got)
    spark_scores = np.array([[got[i]["scores"][label] for label in LABELS] for i in ids])
    cli_scores = np.array([[expected[i]["scores"][label] for label in LABELS] for i in ids])
    assert cli_scores.std() > 1e-4  # the scores differ between rows: the comparison is not between constants
    np.testing.assert_allclose(spark_scores, cli_scores, atol=2e-5)  # 6 decimals; batches pad differently
    assert [got[i]["labels"] for i in ids] == [expected[i]["labels"] for i in ids]
    assert [got[i]["windows"] for i in ids] == [expected[i]["windows"] for i in ids]
    assert max(got[i]["windows"] for i in ids) > 1
    assert [got[i]["gold_labels"] for i in ids] == [expected[i]["gold_labels"] for i in ids]


def _loads_per_worker(frame) -> dict[int, int]:
    def loads(batches):
        import pandas as pd

        from framewatch.spark import predictors_loaded

        for _ in batches:
            yield pd.DataFrame({"pid": [os.getpid()], "loads": [predictors_loaded()]})

    return {row["pid"]: row["loads"] for row in frame.mapInPandas(loads, "pid long, loads long").collect()}


def test_each_python_worker_loads_the_checkpoint_once(spark, tiny_checkpoint):
    """Six partitions on two worker slots: a worker that loaded per partition or per batch would count more."""
    from framewatch.spark import score_dataframe

    frame = spark.createDataFrame(_rows(120)).repartition(6)
    before = _loads_per_worker(frame)
    windows = score_dataframe(frame, tiny_checkpoint, batch_size=8, model_batch_size=5).select("windows").collect()
    assert len(windows) == 120 and all(row["windows"] >= 1 for row in windows)
    after = _loads_per_worker(frame)
    new_loads = {pid: count - before.get(pid, 0) for pid, count in after.items()}
    assert max(new_loads.values()) == 1, (before, after)


def test_spark_listens_on_loopback_only(spark):
    """Every socket the Spark JVM listens on is bound to 127.0.0.1, never the machine's network address."""
    spark.range(4).count()
    java = [p for p in psutil.Process().children(recursive=True) if p.name() == "java"]
    assert java, "no Spark JVM found among this process's children"
    listening = [c.laddr.ip for p in java for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening and set(listening) <= {"127.0.0.1", "::ffff:127.0.0.1"}, listening
