"""The light classification student: a linear softmax head on the embedder's vectors.

Unlike the synthesis-time `LabelVerifier` (a check on teacher samples), this is a student: it is
trained on train + synthetic vectors, saved as a checkpoint and evaluated like the causal LM. The
vectors are standardized (per-dimension mean and scale of the training vectors, stored with the
head), then one linear layer is trained with cross-entropy by AdamW on shuffled mini-batches from
zero weights. Shuffling uses a generator seeded by `seed`, so a CPU run is reproducible bit for bit.

The folder holds `head.safetensors` (weight (k, d), bias (k,), mean (d,), scale (d,)),
`labels.json` (the k labels in class order) and `factory_training.json`.

Example:
    >>> cfg = StudentConfig(backend="classifier")
    >>> result = train_head(vectors, labels, cfg, Path("h"))  # doctest: +SKIP
    >>> load_head(result.checkpoint_path).predict(vectors[:2])  # doctest: +SKIP
    ['card_arrival', 'top_up_failed']
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from factory.errors import BackendError, ConfigError, FactoryError
from factory.training.checkpoints import (
    Progress,
    TrainResult,
    hash_checkpoint,
    staged_output,
    write_training_info,
)

if TYPE_CHECKING:
    from factory.config import StudentConfig

__all__ = ["HEAD_LABELS", "HEAD_WEIGHTS", "LinearHead", "load_head", "train_head"]

logger = logging.getLogger("factory.training")

HEAD_WEIGHTS = "head.safetensors"
HEAD_LABELS = "labels.json"
_TENSORS = ("weight", "bias", "mean", "scale")


@dataclass(frozen=True)
class LinearHead:
    """A trained head: softmax(((x - mean) / scale) @ weight.T + bias) over `labels`."""

    labels: list[str]
    weight: np.ndarray
    """Shape (k, d), float32."""
    bias: np.ndarray
    """Shape (k,), float32."""
    mean: np.ndarray
    """Shape (d,), float32."""
    scale: np.ndarray
    """Shape (d,), float32, all > 0."""

    @property
    def dimension(self) -> int:
        """Width d of the vectors the head takes."""
        return int(self.weight.shape[1])

    def logits(self, vectors: np.ndarray) -> np.ndarray:
        """Class scores, shape (n, k)."""
        x = _check_vectors(vectors, "vectors", self.dimension)
        return ((x - self.mean) / self.scale) @ self.weight.T + self.bias

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n, k), columns in `labels` order; rows sum to 1."""
        z = self.logits(vectors).astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, vectors: np.ndarray) -> list[str]:
        """The most probable label of each vector (ties go to the first label in order)."""
        return [self.labels[i] for i in np.argmax(self.logits(vectors), axis=1)]


def train_head(
    vectors: np.ndarray,
    labels: list[str],
    config: StudentConfig,
    output_dir: Path,
    progress: Progress | None = None,
) -> TrainResult:
    """Train a linear head on `vectors` (n, d) and their `labels`; save it whole into `output_dir`.

    `progress(epochs done, head_epochs)` is called after each epoch. Perplexities are None.

    Example:
        >>> cfg = StudentConfig(backend="classifier", head_epochs=20)
        >>> train_head(vectors, labels, cfg, Path("head")).steps  # doctest: +SKIP
        40
    """
    started = time.perf_counter()
    x = _check_vectors(vectors, "vectors", None)
    classes = _check_labels(labels, x.shape[0])
    try:
        import torch
        import torch.nn.functional as F  # noqa: N812
        from safetensors.numpy import save_file
    except ImportError as exc:
        msg = f"training the classifier head needs {exc.name}; run `pip install 'factory-data'`"
        raise BackendError(msg) from exc

    mean = x.mean(axis=0)
    std = x.std(axis=0)
    scale = np.where(std > 1e-8, std, 1.0).astype(np.float32)
    index = {label: i for i, label in enumerate(classes)}
    features = torch.from_numpy((x - mean) / scale)
    targets = torch.tensor([index[label] for label in labels], dtype=torch.long)
    n, d = features.shape
    weight = torch.zeros((len(classes), d), dtype=torch.float32, requires_grad=True)
    bias = torch.zeros(len(classes), dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.AdamW(
        [
            {"params": [weight], "weight_decay": config.head_weight_decay},
            {"params": [bias], "weight_decay": 0.0},
        ],
        lr=config.head_learning_rate,
    )
    generator = torch.Generator().manual_seed(config.seed)
    batch = config.head_batch_size
    steps = 0
    train_started = time.perf_counter()
    for epoch in range(config.head_epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch):
            rows = order[start : start + batch]
            loss = F.cross_entropy(features[rows] @ weight.T + bias, targets[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
        if progress is not None:
            progress(epoch + 1, config.head_epochs)
    train_seconds = time.perf_counter() - train_started
    with torch.no_grad():
        scores = features @ weight.T + bias
        train_loss = float(F.cross_entropy(scores, targets))
        train_accuracy = float((scores.argmax(dim=1) == targets).float().mean())
    if not math.isfinite(train_loss):
        msg = (
            f"the classifier head diverged (training loss {train_loss}); lower "
            f"`student.head_learning_rate` (now {config.head_learning_rate})"
        )
        raise FactoryError(msg)

    hyperparameters: dict[str, Any] = {
        "method": "linear-head",
        "epochs": config.head_epochs,
        "batch_size": batch,
        "learning_rate": config.head_learning_rate,
        "weight_decay": config.head_weight_decay,
        "optimizer": "adamw",
        "init": "zeros",
        "standardize": True,
        "seed": config.seed,
        "dimension": int(d),
        "classes": len(classes),
    }
    tensors = {
        "weight": weight.detach().numpy(),
        "bias": bias.detach().numpy(),
        "mean": mean.astype(np.float32),
        "scale": scale,
    }
    with staged_output(Path(output_dir)) as staging:
        save_file(tensors, str(staging / HEAD_WEIGHTS))
        labels_text = json.dumps(classes, ensure_ascii=False, indent=1) + "\n"
        (staging / HEAD_LABELS).write_text(labels_text, encoding="utf-8")
        info = {
            "hyperparameters": hyperparameters,
            "steps": steps,
            "train_rows": int(n),
            "train_loss": round(train_loss, 6),
            "train_accuracy": round(train_accuracy, 6),
        }
        write_training_info(staging, info)
    logger.info(
        "classifier head: %d vectors x %d dims, %d labels, %d steps in %.2f s; train loss %.4f, "
        "train accuracy %.3f; saved %s",
        n, d, len(classes), steps, train_seconds, train_loss, train_accuracy, output_dir,
    )  # fmt: skip
    return TrainResult(
        checkpoint_path=Path(output_dir),
        checkpoint_hash=hash_checkpoint(Path(output_dir)),
        steps=steps,
        perplexity_before=None,
        perplexity_after=None,
        hyperparameters=hyperparameters,
        seconds=time.perf_counter() - started,
        train_seconds=train_seconds,
    )


def load_head(path: Path) -> LinearHead:
    """The head saved by `train_head` in folder `path`.

    Example:
        >>> head = load_head(Path("head"))  # doctest: +SKIP
        >>> head.probabilities(vectors[:1]).shape  # doctest: +SKIP
        (1, 77)
    """
    folder = Path(path)
    missing = [n for n in (HEAD_WEIGHTS, HEAD_LABELS) if not (folder / n).is_file()]
    if missing:
        msg = (
            f"{str(folder)!r} is not a classifier head checkpoint: {missing} missing; pass the "
            "folder that train_head wrote (TrainResult.checkpoint_path)"
        )
        raise ConfigError(msg)
    from safetensors.numpy import load_file

    tensors = load_file(str(folder / HEAD_WEIGHTS))
    labels = json.loads((folder / HEAD_LABELS).read_text(encoding="utf-8"))
    absent = [n for n in _TENSORS if n not in tensors]
    k = len(labels) if isinstance(labels, list) else -1
    weight = tensors.get("weight")
    if absent or weight is None or weight.ndim != 2 or weight.shape[0] != k:
        msg = (
            f"classifier head in {str(folder)!r} is inconsistent (missing tensors {absent}, "
            f"weight shape {None if weight is None else weight.shape}, {k} labels); train it again"
        )
        raise ConfigError(msg)
    return LinearHead(
        labels=[str(label) for label in labels],
        weight=weight.astype(np.float32),
        bias=tensors["bias"].astype(np.float32),
        mean=tensors["mean"].astype(np.float32),
        scale=tensors["scale"].astype(np.float32),
    )


def _check_vectors(vectors: np.ndarray, name: str, dimension: int | None) -> np.ndarray:
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2 or (dimension is None and x.shape[0] == 0):
        msg = f"{name} must have shape (n, d) with n >= 1; got shape {x.shape}"
        raise FactoryError(msg)
    if dimension is not None and x.shape[1] != dimension:
        msg = (
            f"{name} have dimension {x.shape[1]} but the head was trained on {dimension}; embed "
            "with the embedder the head was trained on"
        )
        raise FactoryError(msg)
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(axis=1).sum())
        msg = f"{name} has {bad} rows with NaN or infinite values; fix or drop them"
        raise FactoryError(msg)
    return x


def _check_labels(labels: list[str], n: int) -> list[str]:
    """The sorted distinct labels, after checking one non-empty string label per vector."""
    if len(labels) != n:
        msg = f"got {n} vectors but {len(labels)} labels; pass one label per vector"
        raise FactoryError(msg)
    bad = [i for i, label in enumerate(labels) if not isinstance(label, str) or not label]
    if bad:
        msg = (
            f"labels has {len(bad)} null, empty or non-string entries (first at index {bad[0]}: "
            f"{labels[bad[0]]!r}); drop those rows before training"
        )
        raise FactoryError(msg)
    classes = sorted(set(labels))
    if len(classes) < 2:
        msg = f"a classifier head needs at least two distinct labels; got {classes}"
        raise FactoryError(msg)
    return classes
