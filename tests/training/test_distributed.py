"""``torchrun --nproc_per_node=2`` (gloo, 127.0.0.1) runs ``framewatch train`` as DDP, and agrees with one process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from framewatch.checkpoint import load_metadata, load_reference_outputs
from framewatch.training.train import work_dir_for
from tests.conftest import free_port

pytestmark = pytest.mark.slow

FINE_TUNE = ["training.max_steps=24", "training.eval_every_steps=8", "training.early_stopping_patience=100"]
PROBE = ["training.fine_tune=false", "training.linear_probe_c=1.0"]


def _command(config: Path, output: Path, settings: list[str], *extra: str, processes: int) -> list[str]:
    launcher = [sys.executable]
    if processes > 1:
        port = free_port()
        launcher += ["-m", "torch.distributed.run", f"--nproc_per_node={processes}", "--master_addr=127.0.0.1"]
        launcher += [f"--master_port={port}"]
    command = [*launcher, "-m", "framewatch", "train", "--config", str(config), "--output", str(output), *extra]
    for setting in settings:
        command += ["--set", setting]
    return command


def _environment() -> dict[str, str]:
    # gloo connects the processes over the interface it is told, here loopback alone.
    return {**os.environ, "MASTER_ADDR": "127.0.0.1", "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}


def _train(config: Path, output: Path, settings: list[str], *extra: str, processes: int) -> str:
    result = subprocess.run(
        _command(config, output, settings, *extra, processes=processes),
        capture_output=True,
        text=True,
        timeout=600,
        env=_environment(),
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    return log


def _assert_close(single: Path, ddp: Path, *, f1: float, scores: float) -> None:
    a, b = load_metadata(single), load_metadata(ddp)
    assert abs(a.dev_metrics["macro"]["f1"] - b.dev_metrics["macro"]["f1"]) <= f1
    before, after = load_reference_outputs(single), load_reference_outputs(ddp)
    assert before.texts == after.texts
    reference = np.array(before.scores)
    assert reference.std() > 1e-3  # the model learned something: the comparison is not between constants
    assert np.abs(reference - np.array(after.scores)).max() <= scores


def _only_the_checkpoint(directory: Path, name: str) -> None:
    """Rank 0 wrote one checkpoint, published it and cleaned up: no staging copy, no work directory."""
    assert sorted(p.name for p in directory.iterdir()) == [name]
    assert (directory / name / "README.md").is_file() and (directory / name / "MANIFEST.sha256").is_file()


@pytest.fixture(scope="module")
def fine_tuned(tmp_path_factory, tiny_config) -> dict[str, Path | str]:
    single = tmp_path_factory.mktemp("single") / "tiny"
    _train(tiny_config, single, FINE_TUNE, processes=1)
    ddp = tmp_path_factory.mktemp("ddp") / "tiny"
    log = _train(tiny_config, ddp, FINE_TUNE, processes=2)
    return {"single": single, "ddp": ddp, "log": log}


def test_ddp_fine_tuning_matches_one_process(fine_tuned):
    """Same global batch (16 = 2 x 8) and steps; the samplers draw different batches, so close, not equal."""
    _assert_close(fine_tuned["single"], fine_tuned["ddp"], f1=0.1, scores=0.05)
    assert fine_tuned["log"].count("checkpoint written to") == 1
    _only_the_checkpoint(fine_tuned["ddp"].parent, "tiny")


def test_ddp_linear_probe_matches_one_process(tmp_path, tiny_config):
    """Each process encodes half the sentences; the head fitted from the whole is the single process's."""
    single, ddp = tmp_path / "single" / "tiny", tmp_path / "ddp" / "tiny"
    _train(tiny_config, single, PROBE, processes=1)
    log = _train(tiny_config, ddp, PROBE, processes=2)
    _assert_close(single, ddp, f1=1e-6, scores=1e-4)
    assert log.count("checkpoint written to") == 1
    _only_the_checkpoint(ddp.parent, "tiny")


def test_ddp_killed_mid_run_resumes_to_the_same_model(tmp_path, tiny_config, fine_tuned):
    output = tmp_path / "killed"
    work = work_dir_for(output)
    process = subprocess.Popen(
        _command(tiny_config, output, FINE_TUNE, processes=2),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_environment(),
    )
    deadline = time.monotonic() + 300
    saved = [work / "checkpoint-16" / name for name in ("trainer_state.json", "rng_state_1.pth")]
    while not all(path.is_file() for path in saved):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    launcher = psutil.Process(process.pid)
    everyone = [launcher, *launcher.children(recursive=True)]  # the ranks run in sessions of their own
    assert len(everyone) >= 3
    for member in everyone:
        member.send_signal(signal.SIGKILL)
    psutil.wait_procs(everyone, timeout=60)
    process.wait(timeout=60)
    assert not output.exists()

    log = _train(tiny_config, output, FINE_TUNE, "--resume", processes=2)
    resumed = re.search(r"resuming from \S+checkpoint-(\d+) \(step (\d+)\)", log)
    assert resumed and int(resumed.group(2)) >= 16, log
    _assert_close(fine_tuned["ddp"], output, f1=0.01, scores=0.01)


def test_the_batch_of_one_step_is_shared_evenly(monkeypatch):
    from framewatch.errors import ConfigError
    from framewatch.training import distributed

    monkeypatch.setenv("WORLD_SIZE", "2")
    assert distributed.per_process(16) == 8
    monkeypatch.setenv("WORLD_SIZE", "3")
    with pytest.raises(ConfigError, match="must divide evenly over the 3"):
        distributed.per_process(16)
