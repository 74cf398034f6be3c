"""`factory check` on files made elsewhere: real banking77 rows pass; personal data fails it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from tests.fixtures.cli import factory_cli


@pytest.fixture(scope="module")
def files(banking77_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 500-row corpus CSV and 125 other rows as samples (JSONL), both over all 77 intents
    (train.csv is sorted by intent, so rows are taken at a stride), a variant with personal data
    in every sixth row and 12 leaked test items, and 200 test rows as an evaluation set."""
    root = tmp_path_factory.mktemp("check-files")
    train = pl.read_csv(banking77_dir / "train.csv").rename({"category": "label"})
    train.gather_every(20).write_csv(root / "corpus.csv")
    samples = train.gather_every(80, offset=7)
    samples.write_ndjson(root / "samples.jsonl")
    every_sixth = pl.int_range(pl.len()) % 6 == 0
    leaky = samples.with_columns(
        pl.when(every_sixth)
        .then(pl.col("text") + " Write to me at sam.jones@example.org")
        .otherwise(pl.col("text"))
    )
    test = pl.read_csv(banking77_dir / "test.csv").gather_every(15)
    test.write_csv(root / "eval.csv")
    leaked = test.head(12).rename({"category": "label"}).select(samples.columns)
    pl.concat([leaky, leaked]).write_csv(root / "leaked.csv")
    (root / "factory.yaml").write_text(
        yaml.safe_dump(
            {
                "home": "proj",
                "checks": {"eval_sets": [], "reference_rows": 200, "fluency_rows": 50},
            }
        )
    )
    return {p.stem: p for p in root.iterdir()}


def test_real_rows_pass_with_a_table_and_json(files: dict[str, Path]) -> None:
    out = files["samples"].parent / "report.json"
    run = factory_cli(
        "check", str(files["samples"]), "--corpus", str(files["corpus"]), "--json", str(out),
        "--eval-set", str(files["eval"]), "--config", str(files["factory"]),
        cwd=files["samples"].parent,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "quality checks: 125 samples vs 501 rows" in run.stdout
    # piped, so a Markdown table: one line per check, however long its derivation
    assert "| family | check | status | observed | threshold | blocking | note |" in run.stdout
    fluency = [line for line in run.stdout.splitlines() if line.startswith("| coherence | fluency")]
    assert len(fluency) == 1
    assert "train rate" in fluency[0]
    assert "| privacy | privacy | passed |" in run.stdout
    report = json.loads(out.read_text())
    assert report["exit_code"] == 0
    assert report["flagged_rows"] == []
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["contamination"]["applicable"]
    assert by_name["label_consistency"]["applicable"]  # labels came with the file
    assert by_name["target_cosine"]["status"] == "not applicable"
    assert set(report["gx_results"]) == {
        "bias", "coherence", "contamination", "diversity", "privacy"
    }  # fmt: skip


def test_personal_data_and_leaked_evaluation_items_fail_and_are_listed(
    files: dict[str, Path],
) -> None:
    run = factory_cli(
        "check", str(files["leaked"]), "--corpus", str(files["corpus"]),
        "--eval-set", str(files["eval"]), "--config", str(files["factory"]),
        cwd=files["leaked"].parent,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout[-4000:] + run.stderr[-2000:]
    assert "33 rows would be filtered" in run.stdout  # 21 with an e-mail address, 12 leaked
    assert "pii: holds email" in run.stdout
    assert "blocking checks failed: contamination, privacy" in run.stdout
    flagged = [line for line in run.stdout.splitlines() if "same normalized text as eval" in line]
    assert len(flagged) == 12


def test_a_file_without_text_is_a_clear_error(files: dict[str, Path]) -> None:
    bad = files["corpus"].parent / "bad.csv"
    pl.DataFrame({"sentence": ["a", "b"]}).write_csv(bad)
    run = factory_cli("check", str(bad), "--corpus", str(files["corpus"]), cwd=bad.parent)
    assert run.returncode == 1
    assert "has no `text` column" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_broken_file_names_its_role_without_a_traceback(files: dict[str, Path]) -> None:
    broken = files["corpus"].parent / "broken.jsonl"
    broken.write_text('{"text": "fine"}\n{not json\n')
    run = factory_cli("check", str(files["samples"]), "--corpus", str(broken), cwd=broken.parent)
    assert run.returncode == 1
    assert f"corpus file {str(broken)!r} cannot be read as JSON Lines" in run.stderr
    assert "Traceback" not in run.stderr
