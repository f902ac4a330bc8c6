"""Choosing which unlabelled sentences a person should label next.

A labelling budget is spent on a mix of strategies, each with a share:

- ``random``: a plain random sample, the only one from which base rates and
  false-alarm rates may be read;
- ``uncertain``: scores nearest each label's threshold, where one label
  changes the model most (uncertainty sampling);
- ``top``: the highest scores per label: the likely positives and the model's
  likeliest false alarms;
- ``cue``: sentences matching a label's pattern from the config, which finds
  positives the model misses entirely.

Label-specific strategies go round the labels in turn, so every label gets an
equal part of the strategy's share. The result is deterministic for a seed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from framewatch.errors import ConfigError

__all__ = ["RANDOM_STRATUM", "STRATEGIES", "Selection", "parse_mix", "select", "selection_record"]

RANDOM_STRATUM = "random"
"""The stratum from which base rates and false-alarm rates may be read: a plain random sample."""
STRATEGIES = (RANDOM_STRATUM, "uncertain", "top", "cue")
MODEL_STRATEGIES = frozenset({"uncertain", "top"})


@dataclass(frozen=True)
class Selection:
    """One chosen row: its index in the pool, the strategy that chose it and the label it was chosen for."""

    index: int
    stratum: str
    target_label: str | None


def parse_mix(spec: str) -> dict[str, float]:
    """``"random=0.4,top=0.3,cue=0.3"`` to shares that sum to one.

    >>> parse_mix("random=2,top=2")
    {'random': 0.5, 'top': 0.5}
    """
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = part.partition("=")
        if not sep or name not in STRATEGIES:
            raise ConfigError(f"--mix expects strategy=share with strategies {', '.join(STRATEGIES)}; got {part!r}")
        try:
            share = float(value)
        except ValueError as exc:
            raise ConfigError(f"--mix {name}: share {value!r} is not a number") from exc
        if share < 0:
            raise ConfigError(f"--mix {name}: share must not be negative")
        mix[name] = share
    total = sum(mix.values())
    if total <= 0:
        raise ConfigError("--mix: at least one strategy needs a positive share")
    return {name: share / total for name, share in mix.items()}


def _quotas(mix: Mapping[str, float], n: int) -> dict[str, int]:
    """Largest-remainder rounding: the quotas add up to exactly ``n``."""
    raw = {name: share * n for name, share in mix.items()}
    quotas = {name: int(value) for name, value in raw.items()}
    for name in sorted(raw, key=lambda k: (quotas[k] - raw[k], k))[: n - sum(quotas.values())]:
        quotas[name] += 1
    return quotas


def _round_robin(rankings: Sequence[Sequence[int]], quota: int, taken: set[int]) -> list[tuple[int, int]]:
    """Take the next untaken index from each label's ranking in turn; returns (index, label position)."""
    cursors = [0] * len(rankings)
    chosen: list[tuple[int, int]] = []
    while len(chosen) < quota:
        progressed = False
        for k, ranking in enumerate(rankings):
            if len(chosen) == quota:
                break
            while cursors[k] < len(ranking) and ranking[cursors[k]] in taken:
                cursors[k] += 1
            if cursors[k] < len(ranking):
                index = ranking[cursors[k]]
                taken.add(index)
                chosen.append((index, k))
                progressed = True
        if not progressed:
            break
    return chosen


def select(
    texts: Sequence[str],
    n: int,
    mix: Mapping[str, float],
    *,
    label_ids: Sequence[str],
    scores: np.ndarray | None = None,
    thresholds: np.ndarray | None = None,
    cues: Mapping[str, str] | None = None,
    seed: int = 0,
    exclude: set[int] | None = None,
    target_labels: Sequence[str] | None = None,
) -> list[Selection]:
    """Choose ``n`` distinct rows of ``texts`` by the strategies of ``mix``.

    Strategies run in a fixed order (cue, top, uncertain, then random fills
    the rest), each taking only rows no earlier one took. A strategy that runs
    out of candidates leaves its remainder to ``random``. ``target_labels``
    limits the label-specific strategies to those labels, to spend a budget
    on the labels that still lack positives.
    """
    unknown = sorted(set(target_labels or ()) - set(label_ids))
    if unknown:
        raise ConfigError(f"unknown target label(s) {', '.join(unknown)}; the schema has {', '.join(label_ids)}")
    targets = [label for label in label_ids if target_labels is None or label in target_labels]
    needs_model = MODEL_STRATEGIES & {name for name, share in mix.items() if share > 0}
    if needs_model and (scores is None or thresholds is None):
        raise ConfigError(f"strategies {', '.join(sorted(needs_model))} need a checkpoint (--checkpoint)")
    if mix.get("cue", 0) > 0 and not cues:
        raise ConfigError("strategy 'cue' needs annotation.cues in the config")
    available = len(texts) - len(exclude or ())
    if n > available:
        raise ConfigError(f"asked for {n} sentences but the pool has only {available} to choose from")
    rng = np.random.default_rng(seed)
    taken: set[int] = set(exclude or ())
    quotas = _quotas(mix, n)
    chosen: list[Selection] = []

    def add(name: str, picks: list[tuple[int, int]], labels: Sequence[str]) -> None:
        chosen.extend(Selection(index, name, labels[k]) for index, k in picks)

    if quotas.get("cue"):
        cue_labels = [label for label in targets if label in (cues or {})]
        rankings = []
        for label in cue_labels:
            pattern = re.compile(cues[label], re.IGNORECASE)
            matches = np.array([i for i, text in enumerate(texts) if pattern.search(text)], dtype=int)
            rankings.append(rng.permutation(matches).tolist())
        add("cue", _round_robin(rankings, quotas["cue"], taken), cue_labels)
    if quotas.get("top"):
        rankings = [np.argsort(-scores[:, label_ids.index(label)], kind="stable").tolist() for label in targets]
        add("top", _round_robin(rankings, quotas["top"], taken), targets)
    if quotas.get("uncertain"):
        distance = np.abs(scores - thresholds)
        rankings = [np.argsort(distance[:, label_ids.index(label)], kind="stable").tolist() for label in targets]
        add("uncertain", _round_robin(rankings, quotas["uncertain"], taken), targets)
    remaining = n - len(chosen)
    if remaining:
        free = np.array([i for i in range(len(texts)) if i not in taken], dtype=int)
        picks = rng.choice(free, size=remaining, replace=False)
        chosen.extend(Selection(int(i), RANDOM_STRATUM, None) for i in sorted(picks.tolist()))
    return chosen


def selection_record(row: Mapping[str, Any], selection: Selection, scores: np.ndarray | None, label_ids) -> dict:
    """The output line for one selected pool row: the row, its stratum and, with a model, its scores."""
    out = dict(row)
    out["stratum"] = selection.stratum
    if selection.target_label is not None:
        out["target_label"] = selection.target_label
    if scores is not None:
        out["scores"] = {label: round(float(s), 6) for label, s in zip(label_ids, scores[selection.index])}
    return out
