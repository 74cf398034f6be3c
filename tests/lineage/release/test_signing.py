"""Release signing with a local EC key, checked by our verifier and by model_signing's CLI."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lineage.errors import LineageError
from lineage.release.manifest import verify_manifest, write_manifest
from lineage.release.signing import (
    PUBLIC_KEY_NAME,
    SIGNATURE_NAME,
    init_keys,
    public_key_fingerprint,
    sign_release,
    verify_signature,
)

CLI = Path(sys.executable).with_name("model_signing")


@pytest.fixture
def tiny_release(tmp_path: Path) -> Path:
    folder = tmp_path / "releases" / "abc123"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "synthetic.parquet").write_bytes(b"PAR1\x00\x01binary")
    (folder / "README.md").write_text("# card\n", encoding="utf-8")
    write_manifest(folder)
    return folder


def test_init_keys_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    keys = init_keys(tmp_path / "keys" / "release-signing.pem")
    assert keys.private_key.stat().st_mode & 0o777 == 0o600
    assert keys.public_key.name == "release-signing.pub"
    assert keys.fingerprint == public_key_fingerprint(keys.public_key)
    with pytest.raises(LineageError, match="already exists"):
        init_keys(keys.private_key)


def test_init_keys_refuses_a_release_folder(tiny_release: Path) -> None:
    with pytest.raises(LineageError, match="outside every release"):
        init_keys(tiny_release / "key.pem")


def test_signed_release_verifies_here_and_with_the_model_signing_cli(
    tiny_release: Path, tmp_path: Path
) -> None:
    keys = init_keys(tmp_path / "keys" / "k.pem")
    info = sign_release(tiny_release, keys.private_key)
    assert info.public_key_fingerprint == keys.fingerprint
    assert (tiny_release / SIGNATURE_NAME).is_file()
    assert (tiny_release / PUBLIC_KEY_NAME).read_bytes() == keys.public_key.read_bytes()
    assert verify_manifest(tiny_release) == []  # the manifest now covers the public key
    assert verify_signature(tiny_release) == []
    assert verify_signature(tiny_release, keys.public_key) == []
    private = keys.private_key.read_bytes()
    assert all(private not in p.read_bytes() for p in tiny_release.rglob("*") if p.is_file())
    cli = [
        str(CLI),
        "verify",
        "key",
        str(tiny_release),
        "--signature",
        str(tiny_release / SIGNATURE_NAME),
    ]
    ok = subprocess.run([*cli, "--public_key", str(keys.public_key)], capture_output=True)
    assert ok.returncode == 0, ok.stderr


def test_every_tampering_breaks_the_signature(tiny_release: Path, tmp_path: Path) -> None:
    keys = init_keys(tmp_path / "keys" / "k.pem")
    sign_release(tiny_release, keys.private_key)
    pristine = tmp_path / "pristine"
    shutil.copytree(tiny_release, pristine)
    for name in ["data/synthetic.parquet", "README.md", "MANIFEST.sha256", PUBLIC_KEY_NAME]:
        target = tiny_release / name
        raw = bytearray(target.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        target.write_bytes(bytes(raw))
        problems = verify_signature(tiny_release, keys.public_key)
        assert problems, name
        shutil.rmtree(tiny_release)
        shutil.copytree(pristine, tiny_release)
    (tiny_release / "extra.txt").write_text("added\n", encoding="utf-8")
    assert verify_signature(tiny_release, keys.public_key)


def test_a_different_key_does_not_verify(tiny_release: Path, tmp_path: Path) -> None:
    keys = init_keys(tmp_path / "keys" / "k.pem")
    other = init_keys(tmp_path / "keys" / "other.pem")
    sign_release(tiny_release, keys.private_key)
    problems = verify_signature(tiny_release, other.public_key)
    assert problems
    assert "other.pub" in problems[0]


def test_unsigned_release_is_reported(tiny_release: Path) -> None:
    assert verify_signature(tiny_release) == [
        f"{SIGNATURE_NAME} is missing: the release is not signed"
    ]


def test_sign_needs_an_existing_key(tiny_release: Path, tmp_path: Path) -> None:
    with pytest.raises(LineageError, match="factory keys init"):
        sign_release(tiny_release, tmp_path / "absent.pem")
