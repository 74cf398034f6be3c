"""One loopback test and one endpoint check for the embedder, the teacher, the proxy and publish."""

from __future__ import annotations

import pytest

from factory.endpoints import check_endpoint, is_loopback, public_url, url_credentials
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
    assert public_url("https://u:p@h/x") == "https://h/x"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@h/x", "https://h/x"),
        ("https://u:p@ss@h/x", "https://h/x"),  # an @ inside the password
        ("u:Pw12345@127.0.0.1:8080/v1", "127.0.0.1:8080/v1"),  # no scheme
        ("http://[::1]:8080/v1", "http://[::1]:8080/v1"),
        ("http://tok3nTok3n@h/v1", "http://h/v1"),  # a user name alone can be a token
        (
            "https://h/v1?api_key=k3y&key=k2&access_token=t&X-Amz-Signature=s&page=2",
            "https://h/v1?api_key=***&key=***&access_token=***&X-Amz-Signature=***&page=2",
        ),
        ("https://h/v1?api-version=2024-02-01", "https://h/v1?api-version=2024-02-01"),
        ("https://h/v1#access_token=abc", "https://h/v1#access_token=***"),
        ("https://h/bot/" + "sk-" + "a1" * 12, "https://h/bot/***"),
    ],
)
def test_public_url_shows_no_credentials(url: str, shown: str) -> None:
    assert public_url(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        "ftp://user:Secr3tPw@127.0.0.1/v1?api_key=QueryKey99",
        "http://user:Secr3tPw@127.0.0.1:notaport/v1?api_key=QueryKey99",
        "http://user:Secr3tPw@[::1/v1?api_key=QueryKey99",
        "user:Secr3tPw@127.0.0.1:8080/v1?api_key=QueryKey99",
    ],
)
def test_check_endpoint_errors_show_no_credentials(url: str) -> None:
    with pytest.raises(ConfigError) as bad:
        check_endpoint(url, False, "teacher")
    assert "teacher.base_url" in str(bad.value)
    assert "Secr3tPw" not in str(bad.value)
    assert "QueryKey99" not in str(bad.value)


def test_url_credentials_are_what_the_client_sends() -> None:
    auth, params = url_credentials("https://b%40b:p%3Aw@h/v1?api_key=k&api-version=2")
    assert auth == ("b@b", "p:w")
    assert params == [("api_key", "k"), ("api-version", "2")]
    assert url_credentials("https://h/v1") == (None, [])
