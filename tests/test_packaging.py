"""A regular (non-editable) install holds every module: the package mapping puts training/, serving/
and evaluation/ under framewatch, and a module missing from it would only fail for users of a wheel."""

import shutil
import subprocess
import sys
import zipfile

from tests.conftest import REPO


def test_the_wheel_holds_every_module(tmp_path):
    source = tmp_path / "source"  # a copy, so the build leaves nothing behind in the repository
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for folder in ("framewatch", "training", "serving", "evaluation"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", str(source), "--no-deps", "--no-build-isolation"]
        + ["-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("framewatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    rooms = {
        "framewatch": "framewatch",
        "training": "framewatch/training",
        "serving": "framewatch/serving",
        "evaluation": "framewatch/evaluation",
    }
    for folder, installed in rooms.items():  # checked against the repository's own files
        for source in (REPO / folder).rglob("*.py"):
            relative = source.relative_to(REPO / folder).as_posix()
            assert f"{installed}/{relative}" in names, f"{folder}/{relative} is missing from the wheel"
    assert any(name.startswith("framewatch/evaluation/behavioral/") and name.endswith(".yaml") for name in names)
