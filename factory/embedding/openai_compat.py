"""Any OpenAI-compatible `/embeddings` endpoint (OpenAI, vLLM, TGI, Ollama, llama.cpp).

Text leaves the machine only by opt-in: an endpoint off loopback needs `allow_remote=True`.
The API key is read from the environment at call time and never stored, logged or hashed.

Example:
    >>> emb = OpenAIEmbedder("http://127.0.0.1:8080/v1", "smollm2")  # doctest: +SKIP
    >>> emb.embed(["How do I top up?"]).shape  # doctest: +SKIP
    (1, 576)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from factory.embedding.base import Embedder, check_batch_size, normalize_rows
from factory.endpoints import check_endpoint
from factory.errors import BackendError, ConfigError
from factory.hashing import fingerprint
from factory.http_api import OpenAICompatibleClient

if TYPE_CHECKING:
    from factory.config import EmbeddingConfig

__all__ = ["OpenAIEmbedder"]


class OpenAIEmbedder(OpenAICompatibleClient, Embedder):
    """An OpenAI-compatible embeddings endpoint; weights unverifiable."""

    config_section = "embedding"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        allow_remote: bool = False,
        timeout_s: float = 60.0,
        batch_size: int = 64,
    ) -> None:
        endpoint = check_endpoint(base_url, allow_remote, "embedding")
        self._init_endpoint(endpoint, base_url, model, api_key_env, allow_remote, timeout_s)
        self.batch_size = check_batch_size(batch_size)
        self._dimension: int | None = None
        self._info: dict[str, Any] | None = None

    @classmethod
    def from_config(cls, cfg: EmbeddingConfig) -> OpenAIEmbedder:
        """Build from `embedding.base_url`, `model`, `api_key_env`, `allow_remote` and limits."""
        if not cfg.base_url:
            msg = (
                "embedding.backend 'openai' needs embedding.base_url; set it to the endpoint, "
                "e.g. http://127.0.0.1:8080/v1"
            )
            raise ConfigError(msg)
        return cls(
            base_url=cfg.base_url,
            model=cfg.model,
            api_key_env=cfg.api_key_env,
            allow_remote=cfg.allow_remote,
            timeout_s=cfg.timeout_s,
            batch_size=cfg.batch_size or 64,
        )

    @property
    def name(self) -> str:
        """The model id sent to the endpoint."""
        return self.model

    @property
    def dimension(self) -> int:
        """Width of the vectors (asks the endpoint once)."""
        if self._dimension is None:
            self._dimension = int(self.embed_batch(["dimension probe"]).shape[1])
        return self._dimension

    @property
    def fingerprint(self) -> str:
        """Hash of endpoint, model id and what the server reports about the model."""
        return str(self.fingerprint_info()["fingerprint"])

    def fingerprint_info(self) -> dict[str, Any]:
        """Kind, model, endpoint and server-reported model entry; weights unverifiable."""
        if self._info is None:
            server_model = self._server_model()
            self._info = {
                "kind": "openai",
                "model": self.model,
                "endpoint": self.endpoint,
                "server_model": server_model,
                "weights_verifiable": False,
                "fingerprint": fingerprint("openai", self.endpoint, self.model, server_model),
            }
        return dict(self._info)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """POST one batch to `{base_url}/embeddings`; shape (n, d), float32, unit rows."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        body = self._request("POST", "/embeddings", {"model": self.model, "input": texts})
        rows = normalize_rows(self._parse(body, len(texts)))
        self._dimension = int(rows.shape[1])
        return rows

    def _parse(self, body: Any, n: int) -> np.ndarray:
        where = f"embedding endpoint {self.endpoint}"
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or len(data) != n:
            got = len(data) if isinstance(data, list) else type(data).__name__
            msg = f"{where} returned {got} embeddings for {n} inputs; is it an embeddings API?"
            raise BackendError(msg)
        try:
            items = sorted(data, key=lambda item: int(item["index"]))
            vectors = [item["embedding"] for item in items]
            indexes = [int(item["index"]) for item in items]
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"{where} returned items without `index` and `embedding`: {exc!r}"
            raise BackendError(msg) from exc
        if indexes != list(range(n)):
            msg = f"{where} returned indexes {indexes[:10]}...; expected 0..{n - 1} once each"
            raise BackendError(msg)
        if vectors and vectors[0] and isinstance(vectors[0][0], list):
            msg = (
                f"{where} returned one vector per token, not per text; serve the model with "
                "pooling (llama.cpp: `--pooling_type 1` for mean)"
            )
            raise BackendError(msg)
        try:
            return np.asarray(vectors, dtype=np.float32)
        except ValueError as exc:
            msg = f"{where} returned vectors of different widths or non-numbers: {exc}"
            raise BackendError(msg) from exc

    def __repr__(self) -> str:
        return (
            f"OpenAIEmbedder(base_url={self.endpoint!r}, model={self.model!r}, "
            f"api_key_env={self.api_key_env!r}, allow_remote={self.allow_remote})"
        )
