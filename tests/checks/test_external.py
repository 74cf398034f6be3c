"""`factory check` inputs: an unreadable file is a clear error naming the file and its role."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from checks.external import ExternalCheck, check_files, read_table
from factory.config import FactoryConfig
from factory.errors import FactoryError


def _truncated_parquet(path: Path) -> Path:
    pl.DataFrame({"text": [f"row {i}" for i in range(200)]}).write_parquet(path)
    path.write_bytes(path.read_bytes()[:100])
    return path


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("s.jsonl", b'{"text": "fine"}\n{not json\n', "JSON Lines"),
        ("s.csv", b'text,label\n"open quote,a\nnext,b,c\n', "CSV"),
        ("s.csv", b"text\n\xff\xfe\xfa broken\n", "CSV"),
        ("s.parquet", None, "Parquet"),
    ],
)
@pytest.mark.parametrize("role", ["samples", "corpus"])
def test_an_unreadable_file_names_itself_its_role_and_the_fix(
    tmp_path: Path, name: str, content: bytes | None, kind: str, role: str
) -> None:
    path = tmp_path / name
    if content is None:
        _truncated_parquet(path)
    else:
        path.write_bytes(content)
    with pytest.raises(FactoryError) as caught:
        read_table(path, role)
    message = str(caught.value)
    assert message.startswith(f"{role} file {str(path)!r} cannot be read as {kind}: ")
    assert message.endswith(f"; fix the file or save it as UTF-8 {kind} with a `text` column")


def test_check_files_names_the_corpus_when_the_corpus_is_broken(tmp_path: Path) -> None:
    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"text": "a sample"}\n')
    corpus = _truncated_parquet(tmp_path / "corpus.parquet")
    with pytest.raises(FactoryError, match=r"^corpus file .*corpus\.parquet' cannot be read"):
        check_files(samples, corpus, FactoryConfig())


def test_a_text_column_that_is_not_text_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"text": 5}\n{"text": 6}\n')
    with pytest.raises(FactoryError, match=r"samples file .* column `text` holds Int64, not text"):
        read_table(path, "samples")


def test_a_csv_with_numbers_in_text_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("text,label\n12,a\n34,b\n")
    assert read_table(path, "samples")["text"].to_list() == ["12", "34"]


def test_a_utf16_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes("text,label\nhéllo,a\n".encode("utf-16"))
    assert read_table(path, "corpus")["text"].to_list() == ["héllo"]


def test_a_broken_eval_set_is_named_before_any_model_loads(tmp_path: Path) -> None:
    rows = "".join(f'{{"text": "sample number {i}"}}\n' for i in range(3))
    (tmp_path / "samples.jsonl").write_text(rows)
    (tmp_path / "corpus.jsonl").write_text(rows)
    broken = _truncated_parquet(tmp_path / "eval.parquet")
    with pytest.raises(FactoryError, match=r"^eval set '.*eval\.parquet' cannot be read as"):
        check_files(
            tmp_path / "samples.jsonl", tmp_path / "corpus.jsonl", FactoryConfig(), [broken]
        )


class _Report:
    def __init__(self, failed: list[str]) -> None:
        self.failed = failed

    def failed_blocking(self) -> list[str]:
        return self.failed


@pytest.mark.parametrize(
    ("failed", "flagged", "code"),
    [([], 0, 0), (["privacy"], 3, 1), (["fluency"], 0, 1), ([], 2, 2)],
)
def test_exit_code_tells_a_blocking_failure_from_rows_to_filter(
    failed: list[str], flagged: int, code: int
) -> None:
    rows = pl.DataFrame({"row": list(range(flagged))}, schema={"row": pl.Int64})
    outcome = ExternalCheck(_Report(failed), rows, samples=10, corpus_rows=50)  # type: ignore[arg-type]
    assert outcome.exit_code == code
