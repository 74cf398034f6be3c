"""Start the configured teacher: a local llama.cpp server, or an already running endpoint.

Example:
    >>> with start_teacher(TeacherConfig(), log_dir=tmp) as teacher:  # doctest: +SKIP
    ...     teacher.fingerprint_info()["weights_verifiable"]
    True
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from factory.config import TeacherConfig
from factory.errors import ConfigError
from factory.teacher.base import Teacher
from factory.teacher.openai_chat import OpenAIChatTeacher, local_fingerprint
from factory.teacher.pool import TeacherPool

__all__ = [
    "TEACHER_BACKENDS",
    "local_token_counter",
    "offline_fingerprint",
    "quiet_stderr",
    "start_teacher",
]


def _local_weights(config: TeacherConfig) -> Path:
    from factory.models import smollm2_gguf_path

    return Path(config.model_path).expanduser() if config.model_path else smollm2_gguf_path()


def offline_fingerprint(config: TeacherConfig) -> str | None:
    """The teacher's fingerprint without starting or calling it: known for local weights only
    (an API teacher is fingerprinted by asking its server)."""
    if config.backend != "llama-cpp":
        return None
    return local_fingerprint(config.model, _local_weights(config))


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send stderr to /dev/null, file descriptor 2 (C writes) and `sys.stderr` (where
    llama-cpp-python's log callback prints) alike, restored on exit; exceptions still propagate."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null, contextlib.redirect_stderr(null):
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def local_token_counter(config: TeacherConfig) -> Callable[[str], int] | None:
    """Count tokens with the teacher's own tokenizer (local GGUF weights), else None."""
    if config.backend != "llama-cpp":
        return None
    from llama_cpp import Llama

    path = str(_local_weights(config))
    with quiet_stderr():  # llama.cpp logs "n_ctx_seq ..." to stderr even when not verbose
        vocab = Llama(model_path=path, vocab_only=True, verbose=False)

    def count(text: str) -> int:
        return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    return count


@contextlib.contextmanager
def _llama_cpp(config: TeacherConfig, log_dir: Path) -> Iterator[Teacher]:
    from factory.serving import LlamaServer

    model = _local_weights(config)
    count = min(config.servers, config.n_threads)
    threads = config.n_threads // count
    with contextlib.ExitStack() as stack:
        members: list[Teacher] = []
        for instance in range(1, count + 1):
            server = stack.enter_context(
                LlamaServer(
                    model,
                    log_dir=log_dir,
                    alias=config.model,
                    n_ctx=config.n_ctx,
                    n_threads=threads,
                    instance=instance,
                )
            )
            teacher = OpenAIChatTeacher(
                server.base_url, config.model, timeout_s=config.timeout_s, weights_path=model
            )
            teacher.max_tries = config.max_tries
            members.append(teacher)
        yield members[0] if count == 1 else TeacherPool(members)


@contextlib.contextmanager
def _openai(config: TeacherConfig, log_dir: Path) -> Iterator[Teacher]:
    if not config.base_url:
        msg = (
            "teacher.backend 'openai' needs teacher.base_url; set it to the server's base URL, "
            "e.g. http://127.0.0.1:8000/v1"
        )
        raise ConfigError(msg)
    teacher = OpenAIChatTeacher(
        config.base_url,
        config.model,
        api_key_env=config.api_key_env,
        allow_remote=config.allow_remote,
        timeout_s=config.timeout_s,
    )
    teacher.max_tries = config.max_tries
    yield teacher


TEACHER_BACKENDS: dict[str, Callable[[TeacherConfig, Path], AbstractContextManager[Teacher]]] = {
    "llama-cpp": _llama_cpp,
    "openai": _openai,
}
"""Teacher backends by the name in `teacher.backend`."""


def start_teacher(config: TeacherConfig, log_dir: Path) -> AbstractContextManager[Teacher]:
    """Context manager yielding the configured teacher; a server it started stops on exit."""
    if config.backend not in TEACHER_BACKENDS:
        msg = f"unknown teacher {config.backend!r}; expected one of {sorted(TEACHER_BACKENDS)}"
        raise ConfigError(msg)
    return TEACHER_BACKENDS[config.backend](config, Path(log_dir))
