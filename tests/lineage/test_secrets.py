"""The secret scan every lineage record, report and release passes: what it finds, what it keeps."""

from __future__ import annotations

import pytest

from lineage import SecretInLineageError
from lineage.secrets import ensure_no_secrets, find_secrets, redact_secrets

SECRET = "Pl4ntedSecretValue"


@pytest.mark.parametrize(
    "text",
    [
        f"https://bob:{SECRET}@api.example.com/v1",
        f"redis://:{SECRET}@127.0.0.1:6379/0",
        f"https://api.example.com/v1?api_key={SECRET}",
        f"https://api.example.com/v1?model=m&key={SECRET}",
        f"https://h/cb#access_token={SECRET}",
        f"https://bucket.s3.amazonaws.com/o?X-Amz-Signature={SECRET}&X-Amz-Date=1",
        f"https://h/x?sig={SECRET}",
        f"access_token={SECRET}",
        f"host=db password={SECRET}",
        "Authorization: Basic Ym9iOlBsNG50ZWRTZWNyZXRWYWx1ZQ==",  # bob:Pl4ntedSecretValue
        '{"authorization": "Token 9f8e7d6c5b4a39281706"}',
        "x-api-key: 9f8e7d6c5b4a39281706",
        "Bearer eyJhbGciOiJIUzI1NiJ9abcdef",
        "hf_" + "a1B2" * 9,
        "api_org_" + "a1B2" * 9,
        "sk-" + "a1B2" * 12,
        "sk-proj-" + "a1B2" * 12,
        "sk-ant-api03-" + "a1B2" * 12,
        "sk_live_" + "a1B2" * 6,
        "ghp_" + "a1B2" * 9,
        "github_pat_" + "a1B2" * 9,
        "glpat-" + "a1B2" * 5,
        "AKIAIOSFODNN7EXAMPLE",
        "AIza" + "SyA1" * 8 + "xyz",
        "xoxb-1234567890-abcdefghij",
        "npm_" + "a1B2" * 9,
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
    ],
)
def test_credentials_in_values_are_found_and_redacted(text: str) -> None:
    body = {"endpoint": {"shown": f"calling {text} now"}}
    assert find_secrets(body) == ["body.endpoint.shown (value shaped like a credential)"]
    with pytest.raises(SecretInLineageError) as refused:
        ensure_no_secrets(body)
    assert SECRET not in str(refused.value)
    redacted = redact_secrets(f"calling {text} now")
    assert "[REDACTED]" in redacted
    assert SECRET not in redacted
    assert redacted.startswith("calling ")
    assert find_secrets(redacted) == []


@pytest.mark.parametrize(
    "text",
    [
        "https://127.0.0.1:8080/v1",
        "https://api.example.com/v1?api_key=***&api-version=2024-02-01",
        "https://user@example.com/v1",
        "http://[::1]:8080/v1?page=2&max_tokens=80",
        "Basic statistics of the corpus",
        "the bearer of this card",
        "authorization: required for remote endpoints",
        "max_tokens=80 pad_token=<pad>",
        "OPENAI_API_KEY",
        "sha256:" + "ab" * 32,
        "keyword=bank monkey=1",
        "disk-0123456789abcdefghijk",  # holds "sk-..." but is no key
    ],
)
def test_harmless_values_are_kept(text: str) -> None:
    assert find_secrets({"note": text}) == []
    assert redact_secrets(text) == text


def test_redaction_keeps_the_url_readable() -> None:
    url = f"https://bob:{SECRET}@h:8443/v1?api_key={SECRET}&api-version=2"
    assert (
        redact_secrets(url) == "https://bob:[REDACTED]@h:8443/v1?api_key=[REDACTED]&api-version=2"
    )
