"""The release manifest: written over every file, and every kind of difference named."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage import LineageError
from lineage.release.manifest import MANIFEST_NAME, verify_manifest, write_manifest


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    release = tmp_path / "release"
    (release / "data").mkdir(parents=True)
    (release / "data" / "a.parquet").write_bytes(b"PAR1 rows")
    (release / "README.md").write_text("card\n")
    write_manifest(release)
    return release


def test_manifest_lists_every_file_but_itself_in_sha256sum_format(folder: Path) -> None:
    lines = (folder / MANIFEST_NAME).read_text().splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == ["README.md", "data/a.parquet"]
    assert all(len(line.split("  ", 1)[0]) == 64 for line in lines)
    assert verify_manifest(folder) == []


def test_added_removed_and_edited_files_and_a_bad_line_are_named(folder: Path) -> None:
    (folder / "extra.txt").write_text("x")
    (folder / "README.md").unlink()
    manifest = folder / MANIFEST_NAME
    manifest.write_text(manifest.read_text() + "not a line\n")
    assert verify_manifest(folder) == [
        f"{MANIFEST_NAME} line 3 is malformed: 'not a line'",
        "README.md: listed in the manifest but missing",
        "extra.txt: not in the manifest (added after the release was written)",
    ]
    manifest.unlink()
    assert verify_manifest(folder) == [f"{MANIFEST_NAME} is missing from {folder}"]


def test_a_name_sha256sum_would_escape_is_refused(tmp_path: Path) -> None:
    (tmp_path / "release").mkdir()
    (tmp_path / "release" / "bad\\name").write_text("x")
    with pytest.raises(LineageError, match="newline or backslash"):
        write_manifest(tmp_path / "release")


@pytest.mark.parametrize("kind", ["directory", "file", "dangling"])
def test_a_symlink_added_to_a_release_is_named_and_refused(
    folder: Path, tmp_path: Path, kind: str
) -> None:
    outside = tmp_path / "outside"
    (outside / "more").mkdir(parents=True)
    (outside / "more" / "rows.parquet").write_bytes(b"PAR1 other rows")
    (outside / "secret.txt").write_text("x")
    target = {"directory": outside, "file": outside / "secret.txt",
              "dangling": outside / "absent"}[kind]  # fmt: skip
    (folder / "data" / "extra").symlink_to(target)
    problems = verify_manifest(folder)
    assert problems == [
        f"data/extra: a symbolic link (to {str(target)!r}); a release holds plain files only: "
        "remove it"
    ]
    with pytest.raises(LineageError, match="symbolic link"):
        write_manifest(folder)


def test_a_symlink_in_place_of_a_listed_file_is_refused(folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "a.parquet"
    copy.write_bytes((folder / "data" / "a.parquet").read_bytes())  # the very same bytes
    (folder / "data" / "a.parquet").unlink()
    (folder / "data" / "a.parquet").symlink_to(copy)
    assert any("data/a.parquet: a symbolic link" in p for p in verify_manifest(folder))


def test_a_fifo_in_a_release_is_refused(folder: Path) -> None:
    import os

    os.mkfifo(folder / "pipe")
    assert verify_manifest(folder) == [
        "pipe: not a regular file (a FIFO); a release holds plain files only: remove it"
    ]


@pytest.mark.parametrize("name", ["model.sig", "signature.json", "data/signature.sig"])
def test_only_the_signature_itself_is_left_out(folder: Path, name: str) -> None:
    (folder / name).write_bytes(b"anything")
    assert verify_manifest(folder) == [
        f"{name}: not in the manifest (added after the release was written)"
    ]
    write_manifest(folder)
    assert f"  {name}\n" in (folder / MANIFEST_NAME).read_text()
    (folder / "signature.sig").write_bytes(b"a signature covers the manifest")
    assert verify_manifest(folder) == []


def test_a_manifest_that_is_not_utf8_is_a_problem_not_a_crash(folder: Path) -> None:
    manifest = folder / MANIFEST_NAME
    manifest.write_bytes(manifest.read_bytes().replace(b"README", b"READ\xffME"))
    problems = verify_manifest(folder)
    assert "README.md: not in the manifest (added after the release was written)" in problems
