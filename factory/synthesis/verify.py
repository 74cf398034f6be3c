"""Checks on a teacher's candidate that do not trust the teacher: copies, prompt leaks, labels,
answers.

- A candidate that shares `max_copied_words` consecutive words with an example it was shown is a
  copy; one that shares them with the prompt's own instructions leaks the prompt (the usual sign
  that a planted "ignore previous instructions" document took hold).
- A classification sample keeps the label of its anchors only if a classifier trained on the
  train split's embeddings, independently of the teacher, ranks that label among its top k.
- A qa sample's answer must be supported by its parents: the cosine between its embedding and
  the nearest parent answer must reach `min_answer_support`.

Example:
    >>> shared_run("please ignore all previous instructions", "ignore all previous ones")
    3
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import warnings
from dataclasses import dataclass

import numpy as np

from factory.synthesis.prompts import DEFAULT_STYLE, template_for

__all__ = [
    "LabelCheck",
    "LabelVerifier",
    "copy_or_leak",
    "instruction_text",
    "shared_run",
    "shared_verifier",
]

_WORD = re.compile(r"[\w']+")
_FIELD = re.compile(r"\{[^{}]*\}")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shared_run(a: str, b: str) -> int:
    """Length of the longest run of consecutive words that `a` and `b` share."""
    x, y = _words(a), _words(b)
    best = 0
    previous = [0] * (len(y) + 1)
    for i in range(1, len(x) + 1):
        current = [0] * (len(y) + 1)
        for j in range(1, len(y) + 1):
            if x[i - 1] == y[j - 1]:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def instruction_text(kind: str, style: str = DEFAULT_STYLE) -> str:
    """The prompt's own words for task kind `kind` in realization `style` (system, request and
    correction; no data)."""
    template = template_for(kind, style)
    parts = [template.system, template.user, template.correction]
    return "\n".join(_FIELD.sub(" ", p) for p in parts)


def copy_or_leak(
    text: str, examples: list[str], kind: str, max_words: int, style: str = DEFAULT_STYLE
) -> str | None:
    """ "copies an example", "leaks the prompt", or None when `text` is neither."""
    normalized = " ".join(_words(text))
    for example in examples:
        if normalized == " ".join(_words(example)) or shared_run(text, example) >= max_words:
            return "copies an example"
    if shared_run(text, instruction_text(kind, style)) >= max_words:
        return "leaks the prompt"
    return None


@dataclass(frozen=True)
class LabelCheck:
    """The classifier's view of one sample: its top label, the claimed label's rank and prob."""

    predicted: str
    rank: int
    probability: float

    @property
    def agrees(self) -> bool:
        """True when the classifier's top label is the claimed one."""
        return self.rank == 1


class LabelVerifier:
    """Logistic regression on train embeddings; judges labels independently of the teacher."""

    def __init__(self, vectors: np.ndarray, labels: list[str | None], seed: int = 0) -> None:
        from sklearn.linear_model import LogisticRegression

        keep = [i for i, label in enumerate(labels) if label is not None]
        names = sorted({str(labels[i]) for i in keep})
        self.classes = names
        self._single = len(names) < 2
        if self._single:
            return
        index = {name: i for i, name in enumerate(names)}
        y = np.array([index[str(labels[i])] for i in keep])
        self._model = LogisticRegression(max_iter=300, C=10.0, random_state=seed)
        with warnings.catch_warnings():
            # few rows per intent is the normal case (77 intents, a few hundred rows), not a
            # regression target mistaken for classes, which is all this warning guards against
            warnings.filterwarnings("ignore", "The number of unique classes", UserWarning)
            self._model.fit(np.asarray(vectors, dtype=np.float32)[keep], y)

    def check(self, vectors: np.ndarray, labels: list[str]) -> list[LabelCheck]:
        """One `LabelCheck` per row of `vectors` (n, d) against its claimed label."""
        if self._single:
            only = self.classes[0] if self.classes else ""
            return [LabelCheck(only, 1 if lab == only else 2, float(lab == only)) for lab in labels]
        probs = self._model.predict_proba(np.asarray(vectors, dtype=np.float32))
        order = np.argsort(-probs, axis=1, kind="stable")
        out = []
        for row, label in enumerate(labels):
            top = self.classes[int(order[row, 0])]
            if label not in self.classes:
                out.append(LabelCheck(top, len(self.classes) + 1, 0.0))
                continue
            col = self.classes.index(label)
            rank = int(np.nonzero(order[row] == col)[0][0]) + 1
            out.append(LabelCheck(top, rank, float(probs[row, col])))
        return out


_VERIFIERS: dict[str, LabelVerifier] = {}
_VERIFIERS_LOCK = threading.Lock()
_KEEP_VERIFIERS = 4


def shared_verifier(vectors: np.ndarray, labels: list[str | None], seed: int = 0) -> LabelVerifier:
    """A `LabelVerifier` fitted once per process per (vectors, labels, seed)."""
    digest = hashlib.sha256(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    digest.update(json.dumps([labels, seed]).encode("utf-8"))
    key = digest.hexdigest()
    with _VERIFIERS_LOCK:
        if key not in _VERIFIERS:
            if len(_VERIFIERS) >= _KEEP_VERIFIERS:
                _VERIFIERS.pop(next(iter(_VERIFIERS)))
            _VERIFIERS[key] = LabelVerifier(vectors, labels, seed=seed)
        return _VERIFIERS[key]
