"""Sign and verify a release folder with a local EC key (OpenSSF `model_signing`).

`init_keys` writes a P-256 key pair outside any release: the private key (mode 0600) and its
public half beside it (`<name>.pub`). `sign_release` copies the public key into the release as
`signing-key.pub`, rewrites `MANIFEST.sha256` to cover it, and writes `signature.sig`, a Sigstore
bundle over every file of the folder (the signature itself excepted). Anyone can check it with the
`model_signing` CLI alone::

    model_signing verify key RELEASE --signature RELEASE/signature.sig --public_key KEY.pub

Example:
    >>> keys = init_keys(Path.home() / ".factory-keys" / "release-signing.pem")  # doctest: +SKIP
    >>> sign_release(release_dir, keys.private_key).public_key_fingerprint  # doctest: +SKIP
    '9c1f...'
    >>> verify_signature(release_dir, keys.public_key)  # doctest: +SKIP
    []
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from lineage.errors import LineageError
from lineage.release.manifest import MANIFEST_NAME, write_manifest

__all__ = [
    "PUBLIC_KEY_NAME",
    "SIGNATURE_NAME",
    "SIGNING_METHOD",
    "KeyPair",
    "SignatureInfo",
    "init_keys",
    "public_key_fingerprint",
    "public_key_path",
    "sign_release",
    "verify_signature",
]

SIGNATURE_NAME = "signature.sig"
PUBLIC_KEY_NAME = "signing-key.pub"
SIGNING_METHOD = "OpenSSF model_signing 1.1.1, EC P-256 key"


@dataclass(frozen=True)
class KeyPair:
    """Paths of a signing key pair and the public key's fingerprint."""

    private_key: Path
    public_key: Path
    fingerprint: str


@dataclass(frozen=True)
class SignatureInfo:
    """A signed release: the signature and public key files, and the key's fingerprint."""

    signature_file: str
    public_key_file: str
    public_key_fingerprint: str
    method: str = SIGNING_METHOD


def public_key_path(private_key: Path) -> Path:
    """Where `init_keys` puts the public half of `private_key` (`<name>.pub`)."""
    private_key = Path(private_key)
    return private_key.with_name(private_key.stem + ".pub")


def public_key_fingerprint(public_key: Path) -> str:
    """SHA-256 hex of the public key's DER SubjectPublicKeyInfo (stable across PEM layout)."""
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_public_key(Path(public_key).read_bytes())
    except (ValueError, OSError) as exc:
        msg = f"{str(public_key)!r} is not a readable PEM public key ({exc})"
        raise LineageError(msg) from exc
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def _inside_release(path: Path) -> Path | None:
    for folder in Path(path).resolve().parents:
        if (folder / MANIFEST_NAME).is_file():
            return folder
    return None


def init_keys(private_key: Path, *, overwrite: bool = False) -> KeyPair:
    """Create an EC P-256 key pair at `private_key` (0600) and `<name>.pub`; refuse to
    overwrite an existing key unless `overwrite`, or to write into a release folder."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private_key = Path(private_key)
    release = _inside_release(private_key)
    if release is not None:
        msg = (
            f"{str(private_key)!r} lies inside the release folder {str(release)!r}; "
            "keep signing keys outside every release"
        )
        raise LineageError(msg)
    public = public_key_path(private_key)
    if private_key.exists() and not overwrite:
        msg = (
            f"a signing key already exists at {str(private_key)!r}; reuse it, or pass "
            "overwrite (--force) to replace it (releases signed with the old key will no longer "
            "match the new public key)"
        )
        raise LineageError(msg)
    private_key.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = private_key.with_name(private_key.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.replace(tmp, private_key)
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return KeyPair(private_key, public, public_key_fingerprint(public))


def _hashing_config() -> object:
    from model_signing import hashing

    return hashing.Config().set_ignored_paths(paths=[SIGNATURE_NAME], ignore_git_paths=True)


def sign_release(release_dir: Path, private_key: Path) -> SignatureInfo:
    """Add the public key to `release_dir`, refresh its manifest and sign the whole folder."""
    from model_signing import signing

    release_dir, private_key = Path(release_dir), Path(private_key)
    if not (release_dir / MANIFEST_NAME).is_file():
        msg = f"{str(release_dir)!r} has no {MANIFEST_NAME}; write the release before signing it"
        raise LineageError(msg)
    if not private_key.is_file():
        msg = (
            f"signing key {str(private_key)!r} does not exist; create it with "
            "`factory keys init` or set release.sign: false"
        )
        raise LineageError(msg)
    if private_key.resolve().is_relative_to(release_dir.resolve()):
        msg = f"signing key {str(private_key)!r} lies inside the release; move it out"
        raise LineageError(msg)
    public = public_key_path(private_key)
    if not public.is_file():
        msg = f"public key {str(public)!r} (beside the private key) is missing; run keys init"
        raise LineageError(msg)
    shutil.copyfile(public, release_dir / PUBLIC_KEY_NAME)
    write_manifest(release_dir)
    try:
        config = signing.Config().use_elliptic_key_signer(private_key=private_key)
        config.set_hashing_config(_hashing_config()).sign(release_dir, release_dir / SIGNATURE_NAME)
    except (ValueError, OSError) as exc:
        msg = f"cannot sign {str(release_dir)!r} with {str(private_key)!r}: {exc}"
        raise LineageError(msg) from exc
    return SignatureInfo(SIGNATURE_NAME, PUBLIC_KEY_NAME, public_key_fingerprint(public))


def verify_signature(release_dir: Path, public_key: Path | None = None) -> list[str]:
    """Problems with `release_dir`'s signature, checked against `public_key` (default: the
    `signing-key.pub` the release carries); empty when it verifies."""
    from model_signing import verifying

    release_dir = Path(release_dir)
    signature = release_dir / SIGNATURE_NAME
    if not signature.is_file():
        return [f"{SIGNATURE_NAME} is missing: the release is not signed"]
    key = Path(public_key) if public_key is not None else release_dir / PUBLIC_KEY_NAME
    if not key.is_file():
        return [f"public key {str(key)!r} is missing; pass the publisher's key"]
    try:
        verifying.Config().use_elliptic_key_verifier(public_key=key).set_hashing_config(
            _hashing_config()
        ).verify(release_dir, signature)
    except Exception as exc:  # model_signing raises ValueError and protobuf/crypto errors
        return [f"{SIGNATURE_NAME} does not verify with {key.name}: {_short(exc)}"]
    return []


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    changed = sorted(set(re.findall(r"Hash mismatch for '([^']+)'", text)))
    if changed:
        return "signed content changed in " + ", ".join(changed)
    return text if len(text) <= 300 else text[:300] + " …"
