"""Checkpoint layout, metadata, integrity and atomic publication.

A checkpoint is a standard ``save_pretrained`` directory (``config.json`` with
``id2label``, tokenizer, weights) so plain transformers can load it, plus:

- ``framewatch.json``: label schema, thresholds, provenance and dev metrics;
- ``reference_outputs.json``: fp32 scores of some dev sentences, used to accept
  reduced precision at load time only when it reproduces them;
- ``README.md``: the model card;
- ``MANIFEST.sha256``: a digest of every other file, verified before serving.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from framewatch.base_model import sha256_file
from framewatch.config import LabelSpec
from framewatch.drift import DriftReference
from framewatch.errors import CheckpointError

__all__ = [
    "MANIFEST_FILE",
    "METADATA_FILE",
    "REFERENCE_FILE",
    "CheckpointMetadata",
    "ReferenceOutputs",
    "load_metadata",
    "load_reference_outputs",
    "make_world_readable",
    "publish_atomically",
    "verify_manifest",
    "write_manifest",
]

METADATA_FILE = "framewatch.json"
REFERENCE_FILE = "reference_outputs.json"
MANIFEST_FILE = "MANIFEST.sha256"


class CheckpointMetadata(BaseModel):
    """What ``framewatch.json`` holds; the checkpoint's own description of itself."""

    model_config = ConfigDict(extra="allow")

    format_version: int = 1
    checkpoint_id: str = Field(description="Unique id of this training run's output.")
    labels: list[LabelSpec]
    thresholds: dict[str, float]
    max_length: int = 128
    window_stride: int = Field(default=32, description="Tokens shared by consecutive windows of a long sentence.")
    base_model: str
    base_model_sha256: str | None = None
    data_sha256: dict[str, str] = {}
    dev_metrics: dict[str, Any] = {}
    test_metrics: dict[str, Any] | None = None
    seed: int | None = None
    config: dict[str, Any] = {}
    versions: dict[str, str] = {}
    git_commit: str | None = None
    created: str
    drift_reference: DriftReference | None = Field(
        default=None, description="Dev positive rates and score bins that served scores are compared with."
    )

    @property
    def label_ids(self) -> list[str]:
        return [label.id for label in self.labels]


class ReferenceOutputs(BaseModel):
    """fp32 sigmoid scores of a sample of dev sentences."""

    texts: list[str]
    scores: list[list[float]]


def load_metadata(directory: str | Path) -> CheckpointMetadata:
    """Read and cross-check ``framewatch.json`` against ``config.json``.

    The label order in the model config decides what each logit means; if it
    disagrees with the stored schema the checkpoint would silently mislabel, so
    that is an error.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint {directory} does not exist (train one with: framewatch train)")
    meta_path = directory / METADATA_FILE
    try:
        meta = CheckpointMetadata.model_validate_json(meta_path.read_bytes())
    except OSError as exc:
        raise CheckpointError(
            f"{meta_path}: cannot read ({exc.strerror or exc}); not a framewatch checkpoint?"
        ) from exc
    except ValidationError as exc:
        raise CheckpointError(f"{meta_path}: invalid metadata: {exc.errors()[0]['msg']}") from exc
    try:
        model_config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{directory / 'config.json'}: unreadable ({exc})") from exc
    id2label = model_config.get("id2label", {})
    model_labels = [id2label.get(str(i), id2label.get(i)) for i in range(len(id2label))]
    if model_labels != meta.label_ids:
        raise CheckpointError(
            f"{directory}: config.json labels {model_labels} do not match framewatch.json labels {meta.label_ids}"
        )
    if set(meta.thresholds) != set(meta.label_ids):
        raise CheckpointError(f"{meta_path}: thresholds must cover exactly the labels {meta.label_ids}")
    return meta


def load_reference_outputs(directory: str | Path) -> ReferenceOutputs | None:
    path = Path(directory) / REFERENCE_FILE
    if not path.is_file():
        return None
    try:
        return ReferenceOutputs.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise CheckpointError(f"{path}: invalid reference outputs") from exc


def _payload_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST_FILE)


def write_manifest(directory: str | Path) -> None:
    """Record the sha256 of every file, so corruption is caught before serving."""
    directory = Path(directory)
    lines = [f"{sha256_file(p)}  {p.relative_to(directory).as_posix()}" for p in _payload_files(directory)]
    (directory / MANIFEST_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def verify_manifest(directory: str | Path) -> None:
    """Raise :class:`CheckpointError` if any file is missing, extra-corrupt or altered."""
    directory = Path(directory)
    manifest = directory / MANIFEST_FILE
    if not manifest.is_file():
        raise CheckpointError(f"{directory}: no {MANIFEST_FILE}; the checkpoint is incomplete or not from framewatch")
    for line_no, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, _, name = line.partition("  ")
        path = directory / name
        if not path.is_file():
            raise CheckpointError(f"{directory}: {name} listed in {MANIFEST_FILE} is missing")
        if sha256_file(path) != digest:
            raise CheckpointError(f"{directory}: {name} is corrupt (sha256 differs from {MANIFEST_FILE}:{line_no})")


def make_world_readable(directory: str | Path) -> None:
    """transformers writes weights 0600; a served checkpoint must be readable by the server's user."""
    directory = Path(directory)
    directory.chmod(0o755)
    for path in directory.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def publish_atomically(staging: str | Path, final: str | Path) -> Path:
    """Move a fully written checkpoint into place.

    The staging directory must sit on the same filesystem (a sibling), so the
    rename is atomic: readers see either the old checkpoint or the complete new
    one, never a half-written directory.
    """
    staging, final = Path(staging), Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    previous = None
    if final.exists():
        previous = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(final, previous)
    os.replace(staging, final)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
    return final


def staging_dir_for(final: str | Path) -> Path:
    """A fresh sibling directory to write a checkpoint into before publishing it."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.with_name(f".{final.name}.staging-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    return staging


MODEL_CARD_FILE = "README.md"


def write_checkpoint(
    output: str | Path,
    *,
    model,
    tokenizer,
    metadata: CheckpointMetadata,
    reference: ReferenceOutputs,
    model_card: str,
) -> Path:
    """Write a complete checkpoint into a staging sibling, hash it, and publish it atomically at ``output``.

    The one writer of the checkpoint layout: weights and tokenizer (transformers'
    files), :data:`METADATA_FILE`, :data:`REFERENCE_FILE`, the model card and
    :data:`MANIFEST_FILE`. A failure at any step leaves ``output`` as it was.
    """
    staging = staging_dir_for(output)
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / METADATA_FILE).write_text(metadata.model_dump_json(indent=2), encoding="utf-8")
        (staging / REFERENCE_FILE).write_text(reference.model_dump_json(), encoding="utf-8")
        (staging / MODEL_CARD_FILE).write_text(model_card, encoding="utf-8")
        make_world_readable(staging)
        write_manifest(staging)
        (staging / MANIFEST_FILE).chmod(0o644)
        return publish_atomically(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
