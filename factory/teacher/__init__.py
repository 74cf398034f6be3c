"""Teacher layer: the chat backend ABC, the OpenAI-compatible client, its launcher and the
pool of local servers.

Example:
    >>> from factory.config import TeacherConfig
    >>> with start_teacher(TeacherConfig(), log_dir=tmp) as teacher:  # doctest: +SKIP
    ...     teacher.complete([{"role": "user", "content": "Hi"}], temperature=0.8,
    ...                      top_p=0.95, max_tokens=16, seed=1).finish_reason
    'stop'
"""

from __future__ import annotations

from factory.teacher.base import ChatRequest, Completion, Teacher
from factory.teacher.launch import (
    TEACHER_BACKENDS,
    local_token_counter,
    offline_fingerprint,
    start_teacher,
)
from factory.teacher.openai_chat import OpenAIChatTeacher, weights_hash
from factory.teacher.pool import TeacherPool

__all__ = [
    "TEACHER_BACKENDS",
    "ChatRequest",
    "Completion",
    "OpenAIChatTeacher",
    "Teacher",
    "TeacherPool",
    "local_token_counter",
    "offline_fingerprint",
    "start_teacher",
    "weights_hash",
]
