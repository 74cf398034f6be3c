"""Who signed a release: only a key the verifier already trusts authenticates the publisher.

The attack: change a data file, re-sign the folder with another key (the manifest and
`signing-key.pub` rewritten) and hand it out without its project ledger. The signature verifies
with the key the folder carries, so that key proves nothing about who wrote it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from lineage import LineageError
from lineage.release.signing import SIGNATURE_NAME, init_keys, sign_release
from lineage.release.trust import TRUSTED_KEYS_ENV, default_trusted_keys_path, read_trusted_keys
from lineage.release.trust import trust_key as add_trusted_key
from lineage.release.verify import verify_release
from tests.fixtures.release import BuiltSample


def _downloaded(built: BuiltSample, tmp_path: Path) -> Path:
    """The release as a Hub download holds it: the folder alone, no project ledger beside it."""
    copy = tmp_path / "download" / built.release.name
    shutil.copytree(built.release, copy)
    return copy


def _forged(built: BuiltSample, tmp_path: Path, *, thorough: bool = True) -> tuple[Path, str]:
    """The release with fewer train rows, re-signed with an attacker's key (which a `thorough`
    attacker also writes into report.json and the card), then copied out of its project."""
    train = built.release / "data" / "train.parquet"
    pl.read_parquet(train).head(10).write_parquet(train)
    attacker = init_keys(tmp_path / "attacker" / "key.pem")
    if thorough:
        for name in ("report.json", "README.md", "report.md", "report.html"):
            path = built.release / name
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace(built.fingerprint, attacker.fingerprint), "utf-8")
    sign_release(built.release, attacker.private_key)
    return _downloaded(built, tmp_path), attacker.fingerprint


def test_a_release_re_signed_with_another_key_is_not_authenticated(
    built_release: BuiltSample, tmp_path: Path
) -> None:
    copy, attacker = _forged(built_release, tmp_path)
    alone = verify_release(copy)
    assert not alone.ok
    assert alone.problems == []  # the forgery is consistent: only trust can tell
    assert alone.unauthenticated is not None
    assert alone.unauthenticated.startswith("integrity only, publisher not authenticated")
    assert attacker in alone.unauthenticated
    assert "--public-key" in alone.unauthenticated
    assert "--trust-embedded-key" in alone.unauthenticated
    with_key = verify_release(copy, built_release.public_key)
    assert any(SIGNATURE_NAME in p for p in with_key.problems), with_key.problems
    trusted = tmp_path / "trusted-keys"
    trusted.write_text(built_release.fingerprint + "\n", encoding="utf-8")
    listed = verify_release(copy, trusted_keys=read_trusted_keys(trusted))
    assert not listed.ok
    assert listed.unauthenticated is not None
    assert str(trusted) in listed.unauthenticated
    assert verify_release(copy, trust_embedded_key=True).ok  # what the user asked for


def test_a_careless_forgery_is_caught_even_with_the_carried_key(
    built_release: BuiltSample, tmp_path: Path
) -> None:
    copy, attacker = _forged(built_release, tmp_path, thorough=False)
    embedded = verify_release(copy, trust_embedded_key=True)
    assert any(  # the report and the card still name the publisher's key
        built_release.fingerprint in p and attacker in p for p in embedded.problems
    ), embedded.problems


def test_a_trusted_key_authenticates_the_publisher(
    built_release: BuiltSample, tmp_path: Path
) -> None:
    copy = _downloaded(built_release, tmp_path)
    by_key = verify_release(copy, built_release.public_key)
    assert by_key.ok, (by_key.problems, by_key.unauthenticated)
    assert by_key.signed_by == built_release.fingerprint
    assert by_key.trusted_by == f"--public-key {built_release.public_key}"
    trusted = tmp_path / "conf" / "trusted-keys"
    trusted.parent.mkdir()
    trusted.write_text(f"# our team\n\n{'a' * 64}\n{built_release.fingerprint.upper()}\n")
    by_file = verify_release(copy, trusted_keys=read_trusted_keys(trusted))
    assert by_file.ok, (by_file.problems, by_file.unauthenticated)
    assert by_file.trusted_by == f"line 4 of {trusted}"
    shutil.copy(built_release.public_key, trusted.parent / "publisher.pub")
    trusted.write_text("publisher.pub  # a PEM path, relative to this file\n")
    assert verify_release(copy, trusted_keys=read_trusted_keys(trusted)).ok
    embedded = verify_release(copy, trust_embedded_key=True)
    assert embedded.ok
    assert embedded.trusted_by is None
    assert any("publisher not authenticated" in n for n in embedded.notes), embedded.notes


def test_trusted_keys_are_added_and_bad_lines_are_named(
    built_release: BuiltSample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trusted = tmp_path / "conf" / "factory" / "trusted-keys"
    monkeypatch.setenv(TRUSTED_KEYS_ENV, str(trusted))
    assert default_trusted_keys_path() == trusted
    monkeypatch.delenv(TRUSTED_KEYS_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "conf"))
    assert default_trusted_keys_path() == trusted
    assert read_trusted_keys(trusted).fingerprints == {}  # a file not made yet trusts nothing
    with pytest.raises(LineageError, match="does not exist"):
        read_trusted_keys(trusted, required=True)
    assert add_trusted_key(built_release.public_key, trusted) == built_release.fingerprint
    assert add_trusted_key(built_release.public_key, trusted) == built_release.fingerprint
    assert list(read_trusted_keys(trusted).fingerprints) == [built_release.fingerprint]
    trusted.write_text(f"{built_release.fingerprint}\nnot-a-key\n", encoding="utf-8")
    with pytest.raises(LineageError, match=r"line 2 of .*'not-a-key'.*fingerprint.*PEM"):
        read_trusted_keys(trusted)


def test_the_card_and_the_report_publish_the_key_fingerprint(built_release: BuiltSample) -> None:
    card = (built_release.release / "README.md").read_text(encoding="utf-8")
    assert built_release.fingerprint in card
    assert "--public-key" in card
    report = (built_release.release / "report.md").read_text(encoding="utf-8")
    assert built_release.fingerprint in report
