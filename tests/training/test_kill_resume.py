"""``kill -9`` of a live ``framewatch train`` mid-epoch, then ``--resume``: it continues from the last saved step."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

from framewatch.checkpoint import load_metadata
from framewatch.training.train import work_dir_for

SETTINGS = ["training.max_steps=40", "training.eval_every_steps=10", "training.early_stopping_patience=100"]


def _train(config, output, *extra: str) -> subprocess.Popen:
    args = [sys.executable, "-m", "framewatch", "train", "--config", str(config), "--output", str(output), *extra]
    for setting in SETTINGS:
        args += ["--set", setting]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))


def test_kill_9_mid_epoch_then_resume_matches_an_uninterrupted_run(tmp_path, tiny_config):
    reference = tmp_path / "reference"
    assert _train(tiny_config, reference).wait(timeout=600) == 0

    output = tmp_path / "killed"
    work = work_dir_for(output)
    process = _train(tiny_config, output)
    deadline = time.monotonic() + 600
    while not (work / "checkpoint-20" / "trainer_state.json").is_file():
        assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # mid-epoch: 6 steps an epoch, killed after step 20
    process.wait(timeout=60)
    assert not output.exists()

    resumed = _train(tiny_config, output, "--resume")
    log, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, log
    step = int(re.search(r"resuming from \S+checkpoint-(\d+) \(step (\d+)\)", log).group(2))
    assert step >= 20, log
    expected, got = load_metadata(reference).dev_metrics, load_metadata(output).dev_metrics
    assert abs(expected["macro"]["f1"] - got["macro"]["f1"]) <= 0.01
    for label, values in expected["per_label"].items():
        assert abs(values["f1"] - got["per_label"][label]["f1"]) <= 0.01
    import numpy as np

    from framewatch.checkpoint import load_reference_outputs

    before, after = load_reference_outputs(reference), load_reference_outputs(output)
    assert before.texts == after.texts
    scores_before, scores_after = np.array(before.scores), np.array(after.scores)
    assert scores_before.std() > 1e-3  # the model learned something: the comparison is not between constants
    assert np.abs(scores_before - scores_after).max() <= 0.01
