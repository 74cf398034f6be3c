"""A local llama.cpp server (`factory.llama_server`) on 127.0.0.1, started and stopped by PID.

It speaks the OpenAI-compatible API (`/v1/chat/completions`, `/v1/embeddings`), so the teacher
and the `openai` embedder reach it like any other endpoint.

Example:
    >>> with LlamaServer(smollm2_gguf_path(), log_dir=tmp) as server:  # doctest: +SKIP
    ...     server.base_url
    'http://127.0.0.1:41234/v1'
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Literal, Self

from factory.errors import BackendError

__all__ = ["LlamaServer", "free_port"]

Pooling = Literal["mean", "cls", "last"]
_POOLING_IDS: dict[str, int] = {"mean": 1, "cls": 2, "last": 3}
_HOST = "127.0.0.1"


def free_port(host: str = _HOST) -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    """`python -m factory.llama_server` (llama_cpp.server, deterministic) for one GGUF model,
    in its own process group."""

    def __init__(
        self,
        model: Path,
        log_dir: Path,
        alias: str = "smollm2",
        embedding: bool = False,
        pooling: Pooling = "mean",
        arch: str = "llama",
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_batch: int = 64,
        port: int | None = None,
        instance: int = 1,
        startup_timeout_s: float = 60.0,
        stop_grace_s: float = 5.0,
    ) -> None:
        self.model = Path(model)
        self.log_dir = Path(log_dir)
        self.alias = alias
        self.embedding = embedding
        self.pooling = pooling
        self.arch = arch
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.n_batch = n_batch
        self.port = port
        self.instance = instance
        self.startup_timeout_s = startup_timeout_s
        self.stop_grace_s = stop_grace_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        """OpenAI-compatible base URL, e.g. http://127.0.0.1:PORT/v1."""
        if self.port is None:
            msg = "LlamaServer has no port yet; call start() first"
            raise BackendError(msg)
        return f"http://{_HOST}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        """PID of the server process while it runs, else None."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path:
        """File that receives the server's stdout and stderr."""
        suffix = f"-{self.instance}" if self.instance > 1 else ""
        return self.log_dir / f"llama-server-{self.alias}{suffix}.log"

    def command(self) -> list[str]:
        """The argv that start() runs."""
        if self.port is None:
            self.port = free_port()
        cmd = [
            sys.executable, "-m", "factory.llama_server",
            "--model", str(self.model),
            "--host", _HOST,
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_batch", str(self.n_batch),
            "--n_threads", str(self.n_threads),
            "--n_threads_batch", str(self.n_threads),
            "--model_alias", self.alias,
            "--verbose", "false",
        ]  # fmt: skip
        if self.embedding:
            pooling = f"{self.arch}.pooling_type=int:{_POOLING_IDS[self.pooling]}"
            cmd += ["--embedding", "true", "--kv_overrides", pooling]
        return cmd

    def start(self) -> Self:
        """Start the server and wait until `GET /v1/models` answers."""
        if self._proc is not None:
            return self
        if not self.model.is_file():
            msg = f"GGUF model {str(self.model)!r} does not exist; pass the path of a .gguf file"
            raise BackendError(msg)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        cmd = self.command()
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        atexit.register(self.stop)
        try:
            self._wait_ready(self._proc)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        import httpx

        deadline = time.monotonic() + self.startup_timeout_s
        url = f"{self.base_url}/models"
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                msg = (
                    f"llama.cpp server for {self.model.name} exited with code {code} while "
                    f"starting; log {str(self.log_path)!r} ends with:\n{self.log_tail()}"
                )
                raise BackendError(msg)
            with contextlib.suppress(httpx.HTTPError):
                # the server is on loopback: never through a proxy from the environment
                if httpx.get(url, timeout=2.0, trust_env=False).status_code == 200:
                    return
            time.sleep(0.2)
        msg = (
            f"llama.cpp server for {self.model.name} did not answer {url} within "
            f"{self.startup_timeout_s:.0f} s; raise startup_timeout_s or read log "
            f"{str(self.log_path)!r}, which ends with:\n{self.log_tail()}"
        )
        raise BackendError(msg)

    def log_tail(self, lines: int = 20) -> str:
        """Last lines of the server log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL after the grace period; idempotent."""
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        if proc is not None:
            _terminate(proc, self.stop_grace_s)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LlamaServer(model={self.model.name!r}, alias={self.alias!r}, pid={self.pid})"


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM it when its parent dies (even by kill -9)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def _terminate(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """Stop `proc` and its process group: SIGTERM, then SIGKILL after `grace_s`."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
