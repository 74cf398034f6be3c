"""Keep secrets out of lineage: find keys named like secrets and values shaped like credentials.

A key is secret-like when its last word names a credential (`token`, `password`, `secret`,
`api_key`, `private_key`, `access_key`, `authorization`, ...): `hf_token`, `apiKey` and
`client_secret` are refused, while `max_tokens`, `api_key_env` (the *name* of a variable) and
tokenizer settings such as `pad_token` are not. A value is secret-like when it holds a
credential as `factory.credentials` knows them: a known key or token shape (Hugging Face, OpenAI,
Anthropic, GitHub, GitLab, AWS, Google, Stripe, Slack, npm, PyPI, JWTs, PEM private keys), a
password in a URL (`https://user:pw@host`), a URL parameter named like a secret (`?api_key=`,
`&key=`, `access_token=`, `X-Amz-Signature=`), `password=...` written as code, or an
Authorization header value (`Bearer ...`, `Basic <user:password in base64>`). A value already
redacted (`***`) is no secret. Messages name where the secret is, never the secret itself.

Example:
    >>> find_secrets({"teacher": {"hf_token": "x"}, "max_tokens": 80})
    ['body.teacher.hf_token (key named like a secret)']
    >>> find_secrets({"endpoint": "https://bob:pw@api.example.com/v1"})
    ['body.endpoint (value shaped like a credential)']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from factory.credentials import looks_like_credential, redact_credentials
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
    elif isinstance(value, str) and looks_like_credential(value):
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
    return redact_credentials(text, "[REDACTED]")
