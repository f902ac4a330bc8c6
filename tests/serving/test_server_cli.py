import shutil

from framewatch.cli import main as cli
from tests.conftest import REPO


def test_serve_fails_fast_on_missing_checkpoint(tmp_path, capsys):
    code = cli(["serve", "--config", str(REPO / "configs/default.yaml"), "--checkpoint", str(tmp_path / "none")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_serve_fails_fast_on_corrupt_checkpoint(tmp_path, tiny_checkpoint, capsys):
    copy = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, copy)
    (copy / "tokenizer.json").write_text("{}")
    code = cli(["serve", "--config", str(REPO / "configs/default.yaml"), "--checkpoint", str(copy)])
    assert code == 2
    assert "tokenizer.json is corrupt" in capsys.readouterr().err
