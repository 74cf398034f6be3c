"""Time of `factory verify` on a signed release of 1M generated rows vs the standard tools.

Claim: a release of 1M rows verifies well within 60 s (issue 8's budget). The ratio shows what
`factory verify` costs over running the standard tools for the same checks on the same files.

Setup, in this process: `write_release` writes a release of `--rows` generated synthetic rows
(scale stand-in: sentence-like texts, labels, parents, cosines) plus 10,000 generated train rows,
with its card, report and `MANIFEST.sha256`, into `HOME/releases/<version>` of a temporary home;
`sign_release` signs it with a fresh key and a `release` record goes into `HOME/provenance`'s
ledger, as `dataset_release` does.

- project: `factory verify RELEASE_DIR --public-key KEY.pub` as a user runs it (a subprocess:
  interpreter start, imports, manifest, signature and ledger checks).
- bare: `sha256sum -c --strict --quiet MANIFEST.sha256` then `model_signing verify key` (the
  OpenSSF CLI) on the same folder, one after the other: the manifest and signature checks
  without the ledger.

Both are warmed up once (the page cache holds the files for both); repeats alternate the order;
medians of `--repeats`.

    .venv/bin/python benchmarks/verify_release.py [--rows 1000000] [--repeats 3]

Last line: `verify_release ratio=R`, R = project seconds / bare seconds.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _tables(rows: int) -> dict[str, object]:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(0)
    verbs = np.array(["top up", "freeze", "activate", "cancel", "dispute", "transfer"])
    nouns = np.array(["my card", "a payment", "the fee", "my account", "a refund", "cash"])
    train = pl.DataFrame(
        {
            "doc_id": [f"{i:064x}" for i in range(10_000)],
            "text": [f"How do I {v} {n}?" for v, n in zip(
                rng.choice(verbs, 10_000), rng.choice(nouns, 10_000), strict=True)],
            "label": [f"intent_{i % 77}" for i in range(10_000)],
            "split": ["train"] * 10_000,
            "source_id": ["generated"] * 10_000,
            "license": ["CC0-1.0"] * 10_000,
        }
    )  # fmt: skip
    parents = rng.integers(0, 10_000, size=(rows, 2))
    synthetic = pl.DataFrame(
        {
            "sample_id": [f"{i:064x}" for i in range(rows)],
            "text": [f"Can I {v} {n} while abroad, case {i}?" for i, (v, n) in enumerate(zip(
                rng.choice(verbs, rows), rng.choice(nouns, rows), strict=True))],
            "label": [f"intent_{i % 77}" for i in range(rows)],
            "gap_id": [f"gap{i % 50:061d}" for i in range(rows)],
            "method": ["interpolate", "perturb"] * (rows // 2) + ["interpolate"] * (rows % 2),
            "parent_doc_ids": [[f"{a:064x}", f"{b:064x}"] for a, b in parents.tolist()],
            "achieved_cosine": rng.uniform(0.5, 0.95, rows),
            "seed": np.arange(rows),
        }
    )  # fmt: skip
    return {"synthetic": synthetic, "train": train}


def _write(out: Path, rows: int) -> None:
    from lineage.release import CardInfo, ReportInfo, write_release

    tables = _tables(rows)
    card = CardInfo(
        pretty_name="generated scale release",
        license="cc0-1.0",
        language=["en"],
        task_categories=["text-classification"],
    )
    methods = tables["synthetic"]["method"].value_counts()  # type: ignore[index]
    report = ReportInfo(
        run_id="00000000-0000-4000-8000-000000000000",
        created_at="2026-12-02T00:00:00+00:00",
        task_kind="classification",
        documents=10_000,
        clusters=77,
        noise_share=0.1,
        sources=[{"name": "generated", "uri": "generated", "license": "CC0-1.0", "rows": 10_000}],
        gaps=[
            {"gap_id": f"gap{i:061d}", "kind": "sparse_region", "score": 0.5, "budget": rows // 50}
            for i in range(50)
        ],
        samples_accepted=rows,
        samples_rejected=0,
        reject_reasons={},
        methods=dict(methods.iter_rows()),
        teacher={"name": "generated", "fingerprint": "0" * 16},
        embedder={"name": "generated", "fingerprint": "0" * 16},
        student=None,
        checks=[],
        map_png=None,
        splits={"train": 10_000},
    )
    write_release(out, tables, card, report)  # type: ignore[arg-type]


def _sign_and_record(release: Path, key: Path) -> Path:
    """Sign `release` with a new key at `key` and record it in the home's ledger."""
    from lineage import Ledger
    from lineage.release.signing import init_keys, sign_release
    from lineage.release.verify import RELEASE_RECORD, manifest_digest, release_ledger_path

    pair = init_keys(key)
    sign_release(release, pair.private_key)
    Ledger(release_ledger_path(release)).append(  # type: ignore[arg-type]
        RELEASE_RECORD,
        {"version": release.name, "path": str(release), "manifest_sha256": manifest_digest(release),
         "dagster_run_id": "benchmark", "public_key_fingerprint": pair.fingerprint,
         "exclusions": []},
    )  # fmt: skip
    return pair.public_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("sha256sum") is None:
        print("skipped: sha256sum (GNU coreutils) is not on PATH")
        return
    work = Path(tempfile.mkdtemp(prefix="verify-bench-"))
    try:
        out = work / "home" / "releases" / "0123456789ab"
        start = time.perf_counter()
        _write(out, args.rows)
        public_key = _sign_and_record(out, work / "keys" / "release-signing.pem")
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(f"signed release of {args.rows} rows written in {time.perf_counter() - start:.1f} s, "
              f"{size / 1e6:.1f} MB", flush=True)  # fmt: skip
        project = [str(REPO / ".venv" / "bin" / "factory"), "verify", str(out)]
        if not Path(project[0]).exists():
            project = [sys.executable, "-m", "assets.cli", "verify", str(out)]
        project += ["--public-key", str(public_key)]
        model_signing = Path(sys.executable).with_name("model_signing")
        bare = [
            "sh", "-c",
            "sha256sum -c --strict --quiet MANIFEST.sha256 && "
            f"{model_signing} verify key . --signature signature.sig --public_key {public_key}",
        ]  # fmt: skip

        def timed(command: list[str]) -> float:
            began = time.perf_counter()
            done = subprocess.run(command, cwd=out, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"{command[0]} failed: {done.stdout}{done.stderr}")
            return time.perf_counter() - began

        timed(project), timed(bare)  # warm-up: page cache and interpreter caches
        times: dict[str, list[float]] = {"project": [], "bare": []}
        for i in range(args.repeats):
            sides = [("project", project), ("bare", bare)]
            for name, command in sides if i % 2 == 0 else sides[::-1]:
                times[name].append(timed(command))
            print(f"repeat {i + 1}: project {times['project'][-1]:.2f} s, "
                  f"bare {times['bare'][-1]:.2f} s", flush=True)  # fmt: skip
        p, b = statistics.median(times["project"]), statistics.median(times["bare"])
        print(f"{args.rows} rows ({size / 1e6:.1f} MB): factory verify {p:.2f} s, "
              f"sha256sum -c + model_signing verify {b:.2f} s")  # fmt: skip
        print(f"verify_release ratio={p / b:.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
