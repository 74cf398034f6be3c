"""One loopback test and one endpoint check for the embedder, the teacher, the proxy and publish."""

from __future__ import annotations

import pytest

from factory.endpoints import check_endpoint, is_loopback, strip_userinfo
from factory.errors import ConfigError, RemoteNotAllowedError


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("hub.localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("[::ffff:7f00:1]", True),
        ("0.0.0.0", False),
        ("::ffff:10.0.0.1", False),
        ("192.168.1.2", False),
        ("localhost.example.com", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_check_endpoint_names_the_config_section_and_what_would_leave() -> None:
    with pytest.raises(RemoteNotAllowedError) as refused:
        check_endpoint("https://api.example.com/v1", False, "teacher", "corpus text in prompts")
    message = str(refused.value)
    assert "teacher endpoint 'https://api.example.com/v1'" in message
    assert "corpus text in prompts would leave this machine" in message
    assert "`allow_remote: true` under `teacher:`" in message
    assert check_endpoint("https://api.example.com/v1/", True, "teacher") == (
        "https://api.example.com/v1"
    )


def test_check_endpoint_never_shows_credentials() -> None:
    assert check_endpoint("http://user:secret@127.0.0.1:8080/v1", False, "embedding") == (
        "http://127.0.0.1:8080/v1"
    )
    with pytest.raises(ConfigError) as bad:
        check_endpoint("ftp://user:secret@127.0.0.1/v1", False, "embedding")
    assert "secret" not in str(bad.value)
    assert "embedding.base_url" in str(bad.value)
    assert strip_userinfo("https://u:p@h/x") == "https://h/x"
