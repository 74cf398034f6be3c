"""Fluency as perplexity under a local reference LM (llama.cpp in-process, never a chat API).

A text's perplexity is exp of the mean next-token negative log-likelihood of its tokens, scored
from the second token on (SmolLM2 adds no BOS, so the first token has no prediction to score).
Texts that are None, empty or shorter than 2 tokens get NaN. A gate derives its ceiling from the
reference corpus's own perplexities and reports the share of samples above it.

Example:
    >>> lm = ReferenceLM(cache_path=tmp / "perplexity.sqlite")  # doctest: +SKIP
    >>> ppl = lm.perplexities(["Top up my card.", "card up Top my."])  # doctest: +SKIP
    >>> bool(ppl[0] < ppl[1])  # doctest: +SKIP
    True
    >>> share_above(np.array([3.0, 8.0, np.nan]), ceiling=5.0)
    0.5
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from factory.errors import BackendError, ConfigError, FactoryError, SchemaError
from factory.hashing import content_hash
from factory.models import smollm2_gguf_path
from factory.teacher import weights_hash
from factory.teacher.launch import quiet_stderr

__all__ = [
    "ReferenceLM",
    "percentile_ceiling",
    "perplexity_from_logits",
    "share_above",
    "shared_reference_lm",
]

Progress = Callable[[int, int], None]
_PROGRESS_MIN = 200  # show a progress bar when more texts than this are evaluated
_WRITE_BATCH = 256  # cache rows per transaction
_READ_CHUNK = 500  # hashes per SELECT ... IN (...)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS perplexities (
    fingerprint TEXT NOT NULL,
    max_tokens INTEGER NOT NULL,
    text_hash TEXT NOT NULL,
    perplexity REAL,
    PRIMARY KEY (fingerprint, max_tokens, text_hash)
)
"""


def perplexity_from_logits(logits: np.ndarray, tokens: Sequence[int]) -> float:
    """exp(mean NLL) of `tokens[1:]` given `logits[:-1]`, shape (n, vocab); NaN for n < 2.

    Log-softmax is taken per row after subtracting the row's maximum (float64 sums), so large
    logits cannot overflow.
    """
    ids = np.asarray(tokens, dtype=np.intp)
    n = ids.shape[0]
    if n < 2:
        return float("nan")
    rows = np.asarray(logits[: n - 1], dtype=np.float32)
    if rows.ndim != 2 or rows.shape[0] != n - 1:
        msg = f"expected logits of shape ({n}, vocab) for {n} tokens; got shape {logits.shape}"
        raise SchemaError(msg)
    top = rows.max(axis=1)
    log_norm = np.log(np.exp(rows - top[:, None]).sum(axis=1, dtype=np.float64)) + top
    picked = rows[np.arange(n - 1), ids[1:]].astype(np.float64)
    return float(np.exp(np.mean(log_norm - picked)))


class ReferenceLM:
    """A GGUF causal LM that scores texts; the model loads on the first text it must evaluate.

    `fingerprint` is "sha256:<hex>" of the weights file. With `cache_path`, perplexities persist
    in an SQLite file keyed by (fingerprint, max_tokens, text hash), so a text is scored once.
    `n_threads` sets llama.cpp's batch threads too: scoring is all prompt evaluation, and
    threads that outnumber the free cores spin at every barrier (measured 50x slower).
    """

    def __init__(
        self,
        model_path: Path | None = None,
        n_ctx: int = 512,
        n_threads: int | None = None,
        max_tokens: int = 256,
        cache_path: Path | None = None,
    ) -> None:
        if not 2 <= max_tokens <= n_ctx:
            msg = (
                f"max_tokens must lie in [2, n_ctx={n_ctx}], got {max_tokens}; raise n_ctx or "
                "lower max_tokens"
            )
            raise ConfigError(msg)
        self.model_path = Path(model_path) if model_path is not None else smollm2_gguf_path()
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.max_tokens = max_tokens
        self.cache_path = Path(cache_path) if cache_path is not None else None
        self._llm: Any = None
        self._lock = threading.Lock()

    @cached_property
    def fingerprint(self) -> str:
        """ "sha256:<hex>" of the weights file (hashed once per process)."""
        if not self.model_path.is_file():
            msg = (
                f"reference LM weights {str(self.model_path)!r} do not exist; pass an existing "
                "GGUF file as model_path (default: the packaged SmolLM2)"
            )
            raise BackendError(msg)
        return f"sha256:{weights_hash(self.model_path)}"

    def _model(self) -> Any:
        if self._llm is None:
            try:
                import llama_cpp
            except ImportError as exc:
                msg = (
                    "the reference LM needs llama-cpp-python, which is not installed; run "
                    "`pip install llama-cpp-python`"
                )
                raise BackendError(msg) from exc
            try:
                with quiet_stderr():
                    self._llm = llama_cpp.Llama(
                        model_path=str(self.model_path),
                        n_ctx=self.n_ctx,
                        n_threads=self.n_threads,
                        n_threads_batch=self.n_threads,  # prompts evaluate on the batch threads
                        logits_all=True,
                        verbose=False,
                    )
            except (ValueError, RuntimeError) as exc:
                msg = (
                    f"llama.cpp cannot load the reference LM {str(self.model_path)!r}: {exc}; "
                    "pass a valid GGUF file as model_path"
                )
                raise BackendError(msg) from exc
        return self._llm

    def _score(self, text: str) -> float:
        llm = self._model()
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        tokens = tokens[: self.max_tokens]
        if len(tokens) < 2:
            return float("nan")
        llm.reset()
        llm.eval(tokens)
        return perplexity_from_logits(llm.scores[: len(tokens)], tokens)

    def perplexities(
        self, texts: Sequence[str | None], progress: Progress | None = None
    ) -> np.ndarray:
        """Perplexity per text, shape (n,), float64; NaN for None, empty or 1-token texts.
        `progress(done, total)` follows the texts not yet in the cache (else a tqdm bar over
        200 of them)."""
        out = np.full(len(texts), np.nan, dtype=np.float64)
        rows: dict[str, list[int]] = {}
        unique: dict[str, str] = {}
        for i, text in enumerate(texts):
            if text:
                key = content_hash(text)
                rows.setdefault(key, []).append(i)
                unique.setdefault(key, text)
        if not unique:
            return out
        with self._lock, self._open_cache() as db:
            values = self._cached(db, list(unique)) if db is not None else {}
            todo = [key for key in unique if key not in values]
            pending: list[tuple[str, float]] = []
            try:
                for done, key in enumerate(self._progress(todo, progress), start=1):
                    values[key] = self._score(unique[key])
                    pending.append((key, values[key]))
                    if progress is not None:
                        progress(done, len(todo))
                    if db is not None and len(pending) >= _WRITE_BATCH:
                        self._store(db, pending)
                        pending = []
            finally:  # an interrupted run keeps what it computed
                if db is not None and pending:
                    self._store(db, pending)
        for key, indices in rows.items():
            out[indices] = values[key]
        return out

    @staticmethod
    def _progress(todo: list[str], progress: Progress | None) -> Iterator[str]:
        if progress is not None or len(todo) <= _PROGRESS_MIN:
            return iter(todo)
        from tqdm.auto import tqdm

        return iter(tqdm(todo, desc="perplexity", unit="text", disable=None))

    @contextmanager
    def _open_cache(self) -> Iterator[sqlite3.Connection | None]:
        if self.cache_path is None:
            yield None
            return
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.cache_path, timeout=30.0)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            msg = (
                f"perplexity cache {str(self.cache_path)!r} cannot be opened: {exc}; move the "
                "file aside (it only holds values that can be computed again) or pass "
                "cache_path=None"
            )
            raise FactoryError(msg) from exc
        with closing(db):
            yield db

    def _cached(self, db: sqlite3.Connection, keys: list[str]) -> dict[str, float]:
        found: dict[str, float] = {}
        for start in range(0, len(keys), _READ_CHUNK):
            chunk = keys[start : start + _READ_CHUNK]
            marks = ",".join("?" * len(chunk))
            query = (
                "SELECT text_hash, perplexity FROM perplexities WHERE fingerprint = ? "
                f"AND max_tokens = ? AND text_hash IN ({marks})"
            )
            for key, value in db.execute(query, [self.fingerprint, self.max_tokens, *chunk]):
                found[key] = float("nan") if value is None else float(value)
        return found

    def _store(self, db: sqlite3.Connection, pending: list[tuple[str, float]]) -> None:
        rows = [
            (self.fingerprint, self.max_tokens, key, None if np.isnan(value) else value)
            for key, value in pending
        ]
        with db:  # one transaction per batch
            db.executemany(
                "INSERT OR REPLACE INTO perplexities (fingerprint, max_tokens, text_hash, "
                "perplexity) VALUES (?, ?, ?, ?)",
                rows,
            )


def _finite(values: np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    return array[np.isfinite(array)]


def percentile_ceiling(values: np.ndarray, q: float = 95.0) -> float:
    """The `q`-th percentile of the finite values (NaN ignored), e.g. a corpus's ceiling."""
    if not 0.0 <= q <= 100.0:
        msg = f"percentile q must lie in [0, 100], got {q}; 95 keeps the corpus's top 5% above"
        raise ConfigError(msg)
    finite = _finite(values)
    if finite.size == 0:
        msg = (
            f"no finite perplexity among {np.asarray(values).size} values; the texts are all "
            "empty or shorter than 2 tokens, so no ceiling can be derived: pass texts with words"
        )
        raise SchemaError(msg)
    return float(np.percentile(finite, q))


def share_above(values: np.ndarray, ceiling: float) -> float:
    """Share of the finite values strictly above `ceiling`; NaN rows are left out (0.0 if none).

    Empty and 1-token texts (NaN) are not judged here: the empty-text checks catch them.
    """
    finite = _finite(values)
    return float((finite > ceiling).mean()) if finite.size else 0.0


_SHARED: dict[tuple[str, str | None], ReferenceLM] = {}
_SHARED_LOCK = threading.Lock()


def shared_reference_lm(
    model_path: Path | None = None, cache_path: Path | None = None, max_tokens: int = 256
) -> ReferenceLM:
    """The process's one `ReferenceLM` per (model path, cache path, max_tokens)."""
    path = (Path(model_path) if model_path is not None else smollm2_gguf_path()).resolve()
    cache = str(Path(cache_path).resolve()) if cache_path is not None else None
    key = (str(path), cache, max_tokens)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = ReferenceLM(
                model_path=path, cache_path=cache_path, max_tokens=max_tokens
            )
        return _SHARED[key]
