"""Keep secrets out of lineage: find keys named like secrets and values shaped like tokens.

A key is secret-like when its last word names a credential (`token`, `password`, `secret`,
`api_key`, `private_key`, `access_key`, `authorization`, ...): `hf_token`, `apiKey` and
`client_secret` are refused, while `max_tokens`, `api_key_env` (the *name* of a variable) and
tokenizer settings such as `pad_token` are not. A value is secret-like when it has the shape of a
known credential (Hugging Face, OpenAI, Anthropic, GitHub, AWS, Slack tokens, PEM private keys,
`Bearer ...` headers). Messages name where the secret is, never the secret itself.

Example:
    >>> find_secrets({"teacher": {"hf_token": "x"}, "max_tokens": 80})
    ['body.teacher.hf_token (key named like a secret)']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lineage.errors import SecretInLineageError

__all__ = ["ensure_no_secrets", "find_secrets", "redact_secrets"]

_SECRET_LAST_WORDS = frozenset(
    {
        "apikey",
        "authorization",
        "credential",
        "credentials",
        "passphrase",
        "passwd",
        "password",
        "secret",
        "token",
    }
)
_SECRET_LAST_PAIRS = frozenset(
    {("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"), ("auth", "key")}
)
# Tokenizer settings end in "token" but hold vocabulary entries, not credentials.
_TOKENIZER_WORDS = frozenset({"bos", "cls", "eos", "mask", "pad", "sep", "unk"})
_SECRET_VALUE = re.compile(
    r"hf_[A-Za-z0-9]{30,}"
    r"|sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{20,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|github_pat_[A-Za-z0-9_]{30,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|xox[abposr]-[A-Za-z0-9\-]{10,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|[Bb]earer\s+[A-Za-z0-9._~+/\-]{16,}=*"
)
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


def _key_words(key: str) -> list[str]:
    return [w.lower() for w in _WORD_SPLIT.split(key) if w]


def _is_secret_key(key: str) -> bool:
    words = _key_words(key)
    if not words:
        return False
    last = words[-1]
    if last == "token" and len(words) > 1 and words[-2] in _TOKENIZER_WORDS:
        return False
    if last in _SECRET_LAST_WORDS:
        return True
    return len(words) > 1 and (words[-2], last) in _SECRET_LAST_PAIRS


def find_secrets(value: Any, where: str = "body") -> list[str]:
    """Paths (like `body.teacher.hf_token`) of secret-like keys and values inside `value`."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            path = f"{where}.{key}"
            if isinstance(key, str) and _is_secret_key(key) and item not in (None, ""):
                found.append(f"{path} (key named like a secret)")
            else:
                found.extend(find_secrets(item, path))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found.extend(find_secrets(item, f"{where}[{i}]"))
    elif isinstance(value, str) and _SECRET_VALUE.search(value):
        found.append(f"{where} (value shaped like a credential)")
    return found


def ensure_no_secrets(value: Any, where: str = "body") -> None:
    """Raise `SecretInLineageError` naming every secret-like key or value inside `value`."""
    found = find_secrets(value, where)
    if found:
        msg = (
            f"refusing to write secrets into lineage: {found}; secrets never enter lineage: "
            "record the name of the environment variable that holds it (e.g. `api_key_env`) "
            "or drop the field"
        )
        raise SecretInLineageError(msg)


def redact_secrets(text: str) -> str:
    """`text` with every credential-shaped substring replaced by `[REDACTED]`."""
    return _SECRET_VALUE.sub("[REDACTED]", text)
