"""Properties of the manifest and `verify_release` under random damage (Hypothesis): byte flips,
truncations, added, removed and replaced files, symbolic links and empty folders in a tiny signed
release, and flipped, cut, dropped or inserted bytes in the project ledger of a real one. Verify
fails exactly when a file or a byte changed, a clean folder verifies, and nothing raises but a
`LineageError` with a message."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage import LineageError
from lineage.release.manifest import SIGNATURE_NAMES, verify_manifest, write_manifest
from lineage.release.signing import KeyPair, init_keys, sign_release
from lineage.release.verify import verify_release
from tests.fixtures.release import BuiltSample, build_sample_release, train_frame

SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FILES = ("README.md", "report.json", "data/train.parquet", "data/synthetic.parquet")
NAMES = st.sampled_from(
    ["extra.txt", ".hidden", "data/new.parquet", "data/sub/deep.bin", "model.sig",
     "signature.json", "README.md", "MANIFEST.sha256", "signing-key.pub", "signature.sig",
     "data/signature.sig", "notes \u2028 2.txt"]
)  # fmt: skip
POSITION = st.integers(min_value=0, max_value=10**6)
DAMAGE = st.one_of(
    st.tuples(st.just("flip"), POSITION, POSITION, st.integers(0, 7)),
    st.tuples(st.just("truncate"), POSITION, POSITION),
    st.tuples(st.just("remove"), POSITION),
    st.tuples(st.just("write"), NAMES, st.binary(max_size=16)),
    st.tuples(st.just("symlink"), NAMES, st.sampled_from(["inside", "outside", "dangling"])),
    st.tuples(st.just("empty_dir"), st.sampled_from(["empty", "data/empty"])),
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, KeyPair]:
    """A tiny signed release outside any project, and its key pair."""
    root = tmp_path_factory.mktemp("pristine")
    folder = root / "release" / "abc123"
    for i, name in enumerate(FILES):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(bytes(range(i, 40 + 7 * i)) + name.encode())
    write_manifest(folder)
    keys = init_keys(root / "keys" / "release-signing.pem")
    sign_release(folder, keys.private_key)
    return folder, keys


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _apply(folder: Path, damage: tuple[Any, ...], outside: Path) -> None:
    kind = damage[0]
    files = _files(folder)
    if kind in ("flip", "truncate", "remove") and not files:
        return
    if kind == "flip":
        path = files[damage[1] % len(files)]
        raw = path.read_bytes()
        if raw:
            at = damage[2] % len(raw)
            path.write_bytes(raw[:at] + bytes([raw[at] ^ (1 << damage[3])]) + raw[at + 1 :])
    elif kind == "truncate":
        path = files[damage[1] % len(files)]
        raw = path.read_bytes()
        path.write_bytes(raw[: damage[2] % max(len(raw), 1)])
    elif kind == "remove":
        files[damage[1] % len(files)].unlink()
    elif kind == "write":
        path = folder / damage[1]
        if path.is_symlink():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(damage[2])
    elif kind == "symlink":
        path = folder / damage[1]
        if path.is_symlink() or path.is_file():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        target = {"inside": folder / FILES[0], "outside": outside, "dangling": outside / "x"}
        path.symlink_to(target[damage[2]])
    else:
        (folder / damage[1]).mkdir(parents=True, exist_ok=True)


def _snapshot(folder: Path) -> dict[str, Any]:
    """Every entry but folders: a file's bytes, a link's target."""
    out: dict[str, Any] = {}
    for root, dirs, names in os.walk(folder):
        for name in [*dirs, *names]:
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_file():
                out[rel] = path.read_bytes()
    return out


@contextlib.contextmanager
def _copy(pristine: Path) -> Iterator[tuple[Path, Path]]:
    """A fresh copy of the release and a folder outside it."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "release" / pristine.name
        shutil.copytree(pristine, folder)
        outside = Path(tmp) / "outside"
        outside.mkdir()
        (outside / "payload.parquet").write_bytes(b"PAR1 rows from elsewhere")
        yield folder, outside


def _verdict(check: Any) -> Any:
    """`check()`, or the message of the `LineageError` it raised (any other exception fails
    the test)."""
    try:
        return check()
    except LineageError as exc:
        return str(exc).strip() or "a LineageError without a message"


@settings(SETTINGS, max_examples=80)
@given(damages=st.lists(DAMAGE, max_size=3))
def test_the_manifest_fails_exactly_when_a_file_or_byte_changed(
    pristine: tuple[Path, KeyPair], damages: list[tuple[Any, ...]]
) -> None:
    with _copy(pristine[0]) as (folder, outside):
        before = _snapshot(folder)
        for damage in damages:
            _apply(folder, damage, outside)
        after = _snapshot(folder)
        for name in SIGNATURE_NAMES:  # the signature's bytes are the signature check's
            if not isinstance(after.get(name), tuple):  # a link in its place is the manifest's
                before.pop(name, None)
                after.pop(name, None)
        problems = _verdict(lambda: verify_manifest(folder))
        assert isinstance(problems, list)
        assert (problems == []) is (after == before), (damages, problems)


@settings(SETTINGS, max_examples=30)
@given(damages=st.lists(DAMAGE, max_size=2))
def test_verify_release_fails_exactly_when_a_file_or_byte_changed(
    pristine: tuple[Path, KeyPair], damages: list[tuple[Any, ...]]
) -> None:
    release, keys = pristine
    with _copy(release) as (folder, outside):
        before = _snapshot(folder)
        for damage in damages:
            _apply(folder, damage, outside)
        changed = _snapshot(folder) != before
        result = _verdict(lambda: verify_release(folder, keys.public_key))
        assert not isinstance(result, str), result  # verify names problems, it never raises
        assert result.ok is not changed, (damages, result.problems)
        assert result.intact is not changed


LEDGER_DAMAGE = st.one_of(
    st.tuples(st.just("flip"), POSITION, st.integers(0, 7)),
    st.tuples(st.just("truncate"), POSITION),
    st.tuples(st.just("drop_line"), POSITION),
    st.tuples(st.just("insert"), POSITION, st.binary(min_size=1, max_size=6)),
    st.tuples(st.just("delete"), st.booleans()),
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, banking77_slice: Path) -> BuiltSample:
    """A real release built, signed and recorded in its project (shared: tests copy it)."""
    return build_sample_release(tmp_path_factory.mktemp("project"), train_frame(banking77_slice))


@settings(SETTINGS, max_examples=25)
@given(damage=LEDGER_DAMAGE)
def test_a_changed_project_ledger_fails_the_release(
    project: BuiltSample, damage: tuple[Any, ...]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(project.home.root / "provenance", home / "provenance")
        release = home / "releases" / project.release.name
        shutil.copytree(project.release, release)
        ledger = home / "provenance" / "ledger.jsonl"
        assert verify_release(release, project.public_key).ok
        raw = ledger.read_bytes()
        kind, at = damage[0], damage[1] % len(raw) if damage[0] != "delete" else 0
        lines = raw.splitlines(keepends=True)
        if kind == "flip":
            ledger.write_bytes(raw[:at] + bytes([raw[at] ^ (1 << damage[2])]) + raw[at + 1 :])
        elif kind == "truncate":
            ledger.write_bytes(raw[:at])
        elif kind == "drop_line":
            del lines[at % len(lines)]
            ledger.write_bytes(b"".join(lines))
        elif kind == "insert":
            ledger.write_bytes(raw[:at] + damage[2] + raw[at:])
        else:
            ledger.unlink()
            if damage[1]:  # the head too, as an attacker would
                ledger.with_name(ledger.name + ".head").unlink()
        result = _verdict(lambda: verify_release(release, project.public_key))
        assert not isinstance(result, str), result  # verify names problems, it never raises
        assert not result.ok, (damage, result.notes)
        assert result.problems or result.notes
