"""Where a result came from: library versions, git commit, timestamps, file hashes."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from framewatch.base_model import sha256_file

__all__ = ["file_hashes", "git_commit", "library_versions", "utc_now"]

_LIBRARIES = ("framewatch", "torch", "transformers", "datasets", "scikit-learn", "numpy")


def library_versions() -> dict[str, str]:
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_commit(cwd: str | Path | None = None) -> str | None:
    """The commit of the working tree, with ``-dirty`` when it has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def file_hashes(paths: Iterable[Path]) -> dict[str, str]:
    """sha256 of each file by its path, so a checkpoint records exactly which data made it."""
    return {str(path): sha256_file(path) for path in paths}
