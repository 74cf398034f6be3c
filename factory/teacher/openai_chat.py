"""Any OpenAI-compatible `/chat/completions` endpoint (llama.cpp, vLLM, TGI, Ollama, OpenAI).

Text leaves the machine only by opt-in: an endpoint off loopback needs `allow_remote=True`.
The API key is read from the environment at call time and never stored, logged or hashed.

Example:
    >>> teacher = OpenAIChatTeacher("http://127.0.0.1:8080/v1", "smollm2")  # doctest: +SKIP
    >>> teacher.complete([{"role": "user", "content": "Hi"}], temperature=0.8, top_p=0.95,
    ...                  max_tokens=16, seed=1).text  # doctest: +SKIP
    'Hello! How can I help you today?'
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from factory.endpoints import check_endpoint
from factory.errors import BackendError
from factory.hashing import fingerprint, hash_file
from factory.http_api import OpenAICompatibleClient
from factory.teacher.base import ChatRequest, Completion, Messages, Teacher

__all__ = [
    "WEIGHTS_UNVERIFIABLE",
    "OpenAIChatTeacher",
    "check_teacher_endpoint",
    "local_fingerprint",
    "weights_hash",
]

WEIGHTS_UNVERIFIABLE = "weights unverifiable"
_LOG = logging.getLogger(__name__)
_HASH_LOCK = threading.Lock()
_WEIGHT_HASHES: dict[tuple[str, int, int], str] = {}


class OpenAIChatTeacher(OpenAICompatibleClient, Teacher):
    """A teacher behind the OpenAI-compatible chat API; local weights make it verifiable."""

    config_section = "teacher"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        allow_remote: bool = False,
        timeout_s: float = 120.0,
        weights_path: Path | None = None,
        max_workers: int = 1,
    ) -> None:
        endpoint = check_teacher_endpoint(base_url, allow_remote)
        self._init_endpoint(endpoint, base_url, model, api_key_env, allow_remote, timeout_s)
        self.weights_path = Path(weights_path) if weights_path is not None else None
        self.max_workers = max(1, int(max_workers))
        self._info: dict[str, Any] | None = None
        self._info_lock = threading.Lock()

    @property
    def fingerprint(self) -> str:
        """Hash of ("chat", model, weights hash), or of endpoint, model and server reports."""
        return str(self.fingerprint_info()["fingerprint"])

    def fingerprint_info(self) -> dict[str, Any]:
        """Kind, model, endpoint and either the weights' SHA-256 or "weights unverifiable"."""
        with self._info_lock:
            if self._info is None:
                path = self.weights_path
                self._info = self._local_info(path) if path else self._server_info()
            return dict(self._info)

    def _local_info(self, path: Path) -> dict[str, Any]:
        digest = weights_hash(path)
        return {
            "kind": "openai-chat",
            "model": self.model,
            "endpoint": self.endpoint,
            "weights": f"sha256:{digest}",
            "weights_file": path.name,
            "weights_verifiable": True,
            "fingerprint": local_fingerprint(self.model, path),
        }

    def _server_info(self) -> dict[str, Any]:
        server_model = self._server_model()
        probe = self.complete(
            [{"role": "user", "content": "ping"}], temperature=0.0, top_p=1.0, max_tokens=1, seed=0
        )
        return {
            "kind": "openai-chat",
            "model": self.model,
            "endpoint": self.endpoint,
            "server_model": server_model,
            "system_fingerprint": probe.system_fingerprint,
            "weights": WEIGHTS_UNVERIFIABLE,
            "weights_verifiable": False,
            "fingerprint": fingerprint(
                "chat", self.endpoint, self.model, server_model, probe.system_fingerprint
            ),
        }

    def complete(
        self, messages: Messages, *, temperature: float, top_p: float, max_tokens: int, seed: int
    ) -> Completion:
        """POST one request to `{base_url}/chat/completions`; retries transient failures."""
        payload = {
            "model": self.model,
            "messages": messages,
            "temperature": temperature,
            "top_p": top_p,
            "max_tokens": max_tokens,
            "seed": seed,
            "n": 1,
            "stream": False,
        }
        return self._parse(self._request("POST", "/chat/completions", payload))

    async def acomplete(self, request: ChatRequest, client: Any) -> Completion:
        """POST `request` on the shared `httpx.AsyncClient`; raises `UnsupportedRequestError`
        when the server refuses its `response_format`."""
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
            "n": 1,
            "stream": False,
        }
        watch = None
        if request.response_format is not None:
            payload["response_format"] = request.response_format
            watch = "response_format"
        body = await self._arequest(client, "POST", "/chat/completions", payload, watch)
        return self._parse(body)

    def _parse(self, body: Any) -> Completion:
        where = f"teacher endpoint {self.endpoint} (model {self.model!r})"
        try:
            choice = body["choices"][0]
            content = choice["message"].get("content") or ""
            usage = body.get("usage") or {}
            return Completion(
                text=str(content),
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                finish_reason=str(choice.get("finish_reason") or "unknown"),
                system_fingerprint=body.get("system_fingerprint"),
            )
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
            shown = self._redact(repr(body)[:200])
            msg = f"{where} answered without choices[0].message: {shown}; is it a chat API?"
            raise BackendError(msg) from exc

    def __repr__(self) -> str:
        weights = self.weights_path.name if self.weights_path else None
        return (
            f"OpenAIChatTeacher(base_url={self.endpoint!r}, model={self.model!r}, "
            f"api_key_env={self.api_key_env!r}, allow_remote={self.allow_remote}, "
            f"weights={weights!r})"
        )


def check_teacher_endpoint(base_url: str, allow_remote: bool) -> str:
    """Validate `teacher.base_url`; return it without credentials; refuse off-loopback unless
    allowed."""
    return check_endpoint(base_url, allow_remote, "teacher", "corpus text in prompts")


def local_fingerprint(model: str, weights: Path) -> str:
    """Fingerprint of a teacher serving local `weights` under model id `model`."""
    return fingerprint("chat", model, weights_hash(weights))


def weights_hash(path: Path) -> str:
    """SHA-256 of a weights file, computed once per process per (path, size, mtime)."""
    path = Path(path).resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        msg = f"teacher weights {str(path)!r} cannot be read: {exc}; pass an existing GGUF file"
        raise BackendError(msg) from exc
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _HASH_LOCK:
        if key not in _WEIGHT_HASHES:
            _WEIGHT_HASHES[key] = hash_file(path)
        return _WEIGHT_HASHES[key]
