"""A scripted OpenAI-compatible server on 127.0.0.1 for teacher-client tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from factory.teacher import OpenAIChatTeacher

Reply = tuple[int, dict[str, str], Any]


def chat_answer(text: str, fp: str | None = "fp-1") -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "model": "m",
        "system_fingerprint": fp,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
    }


@dataclass
class Scripted:
    """A tiny OpenAI-compatible server on 127.0.0.1 that answers from a script, then stops."""

    replies: list[Reply] = field(default_factory=list)
    default: Callable[[dict[str, Any]], Reply] = lambda body: (200, {}, chat_answer("hello"))
    requests: list[dict[str, Any]] = field(default_factory=list)
    max_requests: int = 20
    deadline_s: float = 20.0

    def serve(self) -> tuple[str, threading.Thread, HTTPServer]:
        """Start serving in a thread that ends after `max_requests` or `deadline_s`."""
        script = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, body: dict[str, Any] | None) -> None:
                script.requests.append(
                    {
                        "t": time.monotonic(),
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                    }
                )
                status, headers, reply = (
                    script.replies.pop(0) if script.replies else script.default(body or {})
                )
                raw = json.dumps(reply).encode() if not isinstance(reply, bytes) else reply
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._answer(None)

            def do_POST(self) -> None:
                self._answer(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))

        server = HTTPServer(("127.0.0.1", 0), Handler)
        server.timeout = 0.05

        def loop() -> None:
            end = time.monotonic() + script.deadline_s
            try:
                while len(script.requests) < script.max_requests and time.monotonic() < end:
                    server.handle_request()
            finally:
                server.server_close()

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        return f"http://127.0.0.1:{server.server_address[1]}/v1", thread, server


@pytest.fixture
def scripted() -> Iterator[Callable[..., tuple[str, Scripted]]]:
    """Factory of scripted servers; each thread is joined (bounded) at teardown."""
    started: list[tuple[threading.Thread, Scripted]] = []

    def make(**kwargs: Any) -> tuple[str, Scripted]:
        script = Scripted(**kwargs)
        url, thread, _ = script.serve()
        started.append((thread, script))
        return url, script

    yield make
    for thread, script in started:
        script.max_requests = 0  # ask the loop to end at its next tick
        thread.join(timeout=5)
        assert not thread.is_alive()


def fast_teacher(url: str, **kwargs: Any) -> OpenAIChatTeacher:
    """A teacher on `url` (model "m") whose retries wait 10 ms."""
    teacher = OpenAIChatTeacher(url, "m", **kwargs)
    teacher.backoff_s = 0.01
    return teacher
