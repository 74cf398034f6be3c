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
