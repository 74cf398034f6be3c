"""Deterministic stand-ins for unit tests of synthesis: a bag-of-words embedder, a teacher."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable
from typing import Any, Self

import numpy as np
import polars as pl

from factory.config import EmbeddingConfig
from factory.embedding import Embedder, normalize_rows
from factory.hashing import content_hash, fingerprint
from factory.schemas import COVERAGE_GAPS, vector_dtype
from factory.synthesis import TrainSet
from factory.teacher import Completion, Messages, Teacher

DIM = 32
EXAMPLE = re.compile(r"<example>\n(.*?)\n</example>", re.DOTALL)

TOPICS = {
    "card_arrival": [
        "my new card has not arrived yet",
        "when will my card arrive in the post",
        "card still not delivered after two weeks",
        "how long does card delivery take",
    ],
    "top_up": [
        "my top up failed again today",
        "why did my top up not go through",
        "top up with bank transfer is pending",
        "can I top up by cash",
    ],
    "exchange_rate": [
        "what exchange rate do you use",
        "the exchange rate on my payment was wrong",
        "is the exchange rate fixed on weekends",
        "exchange rate fee for euros",
    ],
}


class BagEmbedder(Embedder):
    """Hashed bag of words in 32-d; texts in `fixed` get the given vectors."""

    def __init__(self, fixed: dict[str, np.ndarray] | None = None, dim: int = DIM) -> None:
        self.fixed = fixed or {}
        self.dim = dim

    @classmethod
    def from_config(cls, cfg: EmbeddingConfig) -> Self:
        return cls()

    @property
    def name(self) -> str:
        return "bag"

    @property
    def dimension(self) -> int:
        return self.dim

    @property
    def fingerprint(self) -> str:
        return "bag-v1"

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            if text in self.fixed:
                rows[i] = self.fixed[text]
                continue
            rows[i, 0] = 0.01
            for word in re.findall(r"\w+", text.lower()):
                rows[i, int(hashlib.sha256(word.encode()).hexdigest()[:8], 16) % self.dim] += 1
        return normalize_rows(rows)


Reply = Callable[[Messages, int, int], str]


class FakeTeacher(Teacher):
    """Deterministic: answers `reply(messages, seed, call_number)`; records every request."""

    def __init__(self, reply: Reply | None = None) -> None:
        self.reply = reply or remix
        self.requests: list[dict[str, Any]] = []

    def complete(
        self, messages: Messages, *, temperature: float, top_p: float, max_tokens: int, seed: int
    ) -> Completion:
        n = len(self.requests)
        self.requests.append(
            {"messages": messages, "seed": seed, "params": (temperature, top_p, max_tokens)}
        )
        text = self.reply(messages, seed, n)
        return Completion(text, len(messages[1]["content"]) // 4, len(text) // 4, "stop")

    @property
    def fingerprint(self) -> str:
        return fingerprint("fake-teacher", "v1")

    def fingerprint_info(self) -> dict[str, Any]:
        return {"kind": "fake", "fingerprint": self.fingerprint, "weights": "weights unverifiable"}


def examples_in(messages: Messages) -> list[str]:
    """The delimited example texts of the first user message."""
    return EXAMPLE.findall(messages[1]["content"])


def remix(messages: Messages, seed: int, n: int) -> str:
    """Six words drawn (by seed) from the examples in the prompt, as a JSON answer."""
    words = [w for ex in examples_in(messages) for w in ex.split()]
    rng = random.Random(seed)
    return json.dumps({"text": " ".join(rng.choice(words) for _ in range(6))})


def documents(extra: list[tuple[str, str]] | None = None) -> pl.DataFrame:
    """Train documents of the three topics (plus `extra` (text, label) rows)."""
    rows = [(t, label) for label, texts in TOPICS.items() for t in texts] + (extra or [])
    return pl.DataFrame(
        {
            "doc_id": [content_hash(t) for t, _ in rows],
            "text": [t for t, _ in rows],
            "label": [label for _, label in rows],
            "answer": [f"answer to {t}" for t, _ in rows],
            "split": ["train"] * len(rows),
        }
    )


def train_set(docs: pl.DataFrame, emb: Embedder, kind: str = "classification") -> TrainSet:
    """The documents with their embeddings."""
    return TrainSet.from_frames(docs, emb.embed(docs["text"].to_list()), kind)


def gap(
    gap_id: str, rank: int, texts: list[str], budget: int, emb: Embedder, kind: str = "bridge"
) -> dict[str, Any]:
    """A coverage_gaps row whose target is the mean of `texts` and whose anchors are them."""
    vectors = emb.embed(texts)
    target = vectors.mean(axis=0)
    return {
        "gap_id": gap_id,
        "rank": rank,
        "kind": kind,
        "score": 1.0 / rank,
        "target": (target / np.linalg.norm(target)).tolist(),
        "anchor_doc_ids": [content_hash(t) for t in texts],
        "cluster_id": -1,
        "budget": budget,
        "rationale": "test gap",
        "shortfall": 0.5,
        "observed": 5.0,
        "expected": 10.0,
        "evidence_doc_ids": [],
    }


def gaps_frame(rows: list[dict[str, Any]], dim: int = DIM) -> pl.DataFrame:
    """A COVERAGE_GAPS frame of `rows`."""
    schema = {c.name: c.dtype for c in COVERAGE_GAPS.columns}
    schema["target"] = vector_dtype(dim)
    return pl.DataFrame(rows, schema=schema)


def two_gaps(emb: Embedder) -> pl.DataFrame:
    """A bridge gap (card/top-up, budget 2) listed before a higher-ranked sparse one (budget 3)."""
    card, top = TOPICS["card_arrival"], TOPICS["top_up"]
    return gaps_frame(
        [
            gap("gap-b", 2, card[:2] + top[:2], 2, emb),
            gap("gap-a", 1, card, 3, emb, kind="sparse_region"),
        ]
    )
