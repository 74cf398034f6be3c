"""Perturb / steer: targets one controlled step from an anchor along a direction.

The direction is either toward the centroid of the anchor's nearest neighbouring cluster
(`neighbour_cluster`, the default: samples that reach toward the boundary while keeping the
anchor's label), or an attribute direction computed from labelled examples (`attribute`: the
unit difference between the mean embedding of `attribute_positive` labels and that of
`attribute_negative` labels). A target is normalize(anchor + step * u) for unit direction u;
the displacement a sample reaches is (sample - anchor) . u, recorded next to the step.

Example:
    >>> import numpy as np
    >>> anchor, u = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    >>> target = steered(anchor, u, 0.5)
    >>> round(float(displacement(target, anchor, u)), 3)
    0.447
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from factory.config import SynthesisConfig
from factory.errors import ConfigError

if TYPE_CHECKING:
    from factory.synthesis.train_set import TrainSet

__all__ = ["Step", "attribute_direction", "displacement", "perturbation_targets", "steered"]


@dataclass(frozen=True)
class Step:
    """One perturbation: origin row, unit direction, step and the resulting unit target."""

    origin: int
    direction: np.ndarray
    step: float
    kind: str
    target: np.ndarray


def _unit(v: np.ndarray) -> np.ndarray | None:
    norm = float(np.linalg.norm(v))
    return (v / norm).astype(np.float32) if norm > 1e-8 else None


def steered(anchor: np.ndarray, direction: np.ndarray, step: float) -> np.ndarray:
    """normalize(anchor + step * direction), float32."""
    point = np.asarray(anchor, dtype=np.float64) + step * np.asarray(direction, dtype=np.float64)
    return (point / np.linalg.norm(point)).astype(np.float32)


def displacement(vector: np.ndarray, anchor: np.ndarray, direction: np.ndarray) -> float:
    """How far `vector` moved from `anchor` along unit `direction`."""
    return float((np.asarray(vector) - np.asarray(anchor)) @ np.asarray(direction))


def attribute_direction(train: TrainSet, positive: list[str], negative: list[str]) -> np.ndarray:
    """Unit mean(positive-label vectors) - mean(negative-label vectors)."""
    labels = np.array([label if label is not None else "" for label in train.labels])
    sides = []
    for name, wanted in (("attribute_positive", positive), ("attribute_negative", negative)):
        mask = np.isin(labels, wanted) if wanted else np.zeros(len(labels), dtype=bool)
        if not mask.any():
            msg = (
                f"synthesis.{name} {wanted!r} matches no train label; list labels of the corpus "
                "(e.g. the two ends of the attribute) or use steer_direction: neighbour_cluster"
            )
            raise ConfigError(msg)
        sides.append(train.vectors[mask].mean(axis=0))
    direction = _unit(sides[0] - sides[1])
    if direction is None:
        msg = "the attribute labels have the same mean embedding; pick labels that differ"
        raise ConfigError(msg)
    return direction


def _neighbour_direction(
    origin: np.ndarray, own: int | None, centroids: dict[int, np.ndarray]
) -> np.ndarray | None:
    """Unit direction from `origin` toward the nearest centroid of another cluster."""
    others = [(c, v) for c, v in sorted(centroids.items()) if c != own and c >= 0]
    if own is None or own < 0:
        # noise: its own cluster is the nearest centroid; head for the second nearest
        ranked = sorted(others, key=lambda cv: -float(cv[1] @ origin))
        others = ranked[1:] if len(ranked) > 1 else ranked
    if not others:
        return None
    _, centroid = max(others, key=lambda cv: float(cv[1] @ origin))
    return _unit(np.asarray(centroid, dtype=np.float32) - origin)


def perturbation_targets(
    gap: dict[str, Any],
    anchors: list[int],
    train: TrainSet,
    config: SynthesisConfig,
    centroids: dict[int, np.ndarray],
    attribute: np.ndarray | None,
) -> list[Step]:
    """`gap['budget']` steps: anchors taken in turn, each with every step size in turn."""
    steps = list(config.steer_steps)
    target = np.asarray(gap["target"], dtype=np.float32)
    out = []
    for i in range(int(gap["budget"])):
        origin = anchors[(i // len(steps)) % len(anchors)]
        vector = train.vectors[origin]
        kind, direction = "attribute", attribute
        if direction is None:
            own = int(train.clusters[origin]) if train.clusters is not None else gap["cluster_id"]
            kind, direction = "neighbour_cluster", _neighbour_direction(vector, own, centroids)
        if direction is None:
            kind, direction = "toward_gap_target", _unit(target - vector)
        if direction is None:
            far = min(anchors, key=lambda r: float(train.vectors[r] @ vector))
            kind, direction = "across_anchors", _unit(train.vectors[far] - vector)
        if direction is None:
            kind, direction = "none", np.zeros_like(vector)
        step = float(steps[i % len(steps)])
        out.append(Step(origin, direction, step, kind, steered(vector, direction, step)))
    return out
