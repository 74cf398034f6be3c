"""Endpoint credentials planted in the config reach no file under the home.

A `user:password@` and an `?api_key=` go into the teacher's and the embedder's `base_url`; the
code paths that record endpoints then run on small tables: the synthesis and embedding params
and the model facts the ledger records (from real clients on 127.0.0.1), a log line with the
clients' repr, an error message, the release facts and the signed, recorded release.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from factory.config import FactoryConfig
from factory.embedding import create_embedder
from factory.errors import BackendError
from factory.home import Home
from factory.synthesis.run import synthesis_params
from factory.teacher import OpenAIChatTeacher, start_teacher
from lineage import Ledger
from lineage.release.build import build_release, signing_entry
from lineage.release.facts import PiiScanner, ReleaseRun, ReleaseTables, build_release_facts
from tests.fixtures.network import free_port

PASSWORD = "Pl4ntedUserinfoPassw0rd"
QUERY_KEY = "Pl4ntedQueryKey9f8e7d"
RUN = "0d1c2b3a-0000-4000-8000-000000000003"


def _planted(url: str) -> str:
    scheme, rest = url.split("://")
    host, _, path = rest.partition("/")
    return f"{scheme}://planted:{PASSWORD}@{host}/{path}?api_key={QUERY_KEY}"


def _config(tmp_path: Path, teacher_url: str, embed_url: str, remote: bool) -> FactoryConfig:
    openai = {"backend": "openai", "allow_remote": remote}
    data = {
        "home": "home",
        "task": {"kind": "classification"},
        "sources": [{"id": "bank", "kind": "csv", "path": "bank.csv", "license": "CC-BY-4.0"}],
        "teacher": {**openai, "base_url": _planted(teacher_url), "model": "m"},
        "embedding": {**openai, "base_url": _planted(embed_url), "model": "e5"},
    }
    return FactoryConfig.from_dict(data, base_dir=tmp_path)


def _tables() -> ReleaseTables:
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    corpus = pl.DataFrame(
        {
            "doc_id": ["d0", "d1", "d2"],
            "text": ["freeze my card", "top up", "lost card"],
            "label": ["freeze", "top_up", "freeze"],
            "answer": [None] * 3,
            "split": ["train", "train", "test"],
            "source_id": ["bank"] * 3,
            "source_uri": [f"bank.csv#L{i + 2}" for i in range(3)],
            "license": ["CC-BY-4.0"] * 3,
            "ingested_at": [now] * 3,
        },
        schema_overrides={"answer": pl.String},
    )
    samples = pl.DataFrame(
        {
            "sample_id": ["s0"], "text": ["freeze it abroad"], "label": ["freeze"],
            "answer": [None], "gap_id": ["g1"], "method": ["interpolate"],
            "teacher_fingerprint": ["teacher-fp"], "parent_doc_ids": [["d0"]],
        },
        schema_overrides={"answer": pl.String},
    )  # fmt: skip
    gaps = {
        "gap_id": ["g1"], "rank": [1], "kind": ["sparse_region"], "score": [0.9], "budget": [1],
        "rationale": ["few freeze questions"], "cluster_id": [0],
    }  # fmt: skip
    checkpoint = {
        "checkpoint_path": "/s/1", "checkpoint_hash": "c" * 64, "backend": "classifier",
        "round": 1, "base_model_fingerprint": "e" * 16, "training_data_version": "t" * 16,
        "hyperparameters": "{}", "train_rows": 2, "synthetic_rows": 1, "steps": 4,
        "perplexity_before": None, "perplexity_after": None,
    }  # fmt: skip
    evaluation = {
        "model": ["student", "base"], "split": ["test"] * 2, "doc_id": ["d2"] * 2,
        "task_kind": ["classification"] * 2, "reference": ["freeze"] * 2,
        "prediction": ["freeze", "top_up"], "correct": [True, False],
        "nll": [None, None], "tokens": [None, None],
    }  # fmt: skip
    schema = {"nll": pl.Float64, "tokens": pl.Int64}
    return ReleaseTables(
        corpus=corpus,
        quarantine=pl.DataFrame({"reason": pl.Series([], dtype=pl.String)}),
        clusters=pl.DataFrame({"cluster_id": [0]}),
        semantic_map=pl.DataFrame({"cluster_id": [0, 0, 0]}),
        gaps=pl.DataFrame(gaps),
        samples=samples,
        rejects=pl.DataFrame({"reason": ["off_target: cosine 0.2"]}),
        checkpoint=pl.DataFrame(
            [checkpoint],
            schema_overrides={"perplexity_before": pl.Float64, "perplexity_after": pl.Float64},
        ),
        evaluation=pl.DataFrame(evaluation, schema_overrides=schema),
    )


def _run() -> ReleaseRun:
    return ReleaseRun(
        run_id=RUN,
        input_versions={"synthetic_samples": "v1"},
        embedder_fingerprint="e" * 16,
        checks=[],
        scanner=PiiScanner("test scanner", "nothing", lambda texts: (0, {})),
    )


def test_planted_endpoint_credentials_reach_no_file_under_the_home(
    tmp_path: Path, scripted: Any
) -> None:
    teacher_url, teacher_server = scripted()
    embed_url, embed_server = scripted(default=lambda body: (200, {}, {"data": [{"id": "e5"}]}))
    local = _config(tmp_path, teacher_url, embed_url, remote=False)
    home = Home.of(local).ensure()
    ledger = Ledger(home.ledger)
    shown: list[str] = []
    with start_teacher(local.teacher, home.logs) as teacher:
        embedder = create_embedder(local.embedding)
        teacher_info, embedder_info = teacher.fingerprint_info(), embedder.fingerprint_info()
        shown += [f"teacher ready: {teacher!r}", f"embedder: {embedder!r}"]
    assert f"?api_key={QUERY_KEY}" in teacher_server.requests[0]["path"]  # really sent
    assert embed_server.requests[0]["headers"]["Authorization"].startswith("Basic ")
    ledger.append("materialization", {"params": synthesis_params(local), "models": teacher_info})
    # what assets/embeddings.py records as the embedding step's params and models
    params = local.embedding.model_dump(mode="json", exclude={"api_key_env"})
    ledger.append("materialization", {"params": params, "models": {"embedder": embedder_info}})
    down = OpenAIChatTeacher(_planted(f"http://127.0.0.1:{free_port()}/v1"), "m")
    down.max_tries, down.backoff_s = 1, 0.0
    with pytest.raises(BackendError) as failed:
        down.complete(
            [{"role": "user", "content": "hi"}], temperature=0, top_p=1, max_tokens=8, seed=0
        )
    shown.append(str(failed.value))
    home.logs.mkdir(parents=True, exist_ok=True)
    (home.logs / "run.log").write_text("\n".join(shown), encoding="utf-8")

    remote_url = "https://api.example.com/v1"
    remote = _config(tmp_path, remote_url, remote_url, remote=True)
    signing, _ = signing_entry(home.signing_key)
    run = ReleaseRun(**{**_run().__dict__, "signing": signing})
    facts = build_release_facts(remote, home, _tables(), run, ledger.records())
    assert facts.report.privacy is not None
    assert facts.report.privacy["sent_off_machine"] == [
        f"every document's text, to the embedding endpoint {remote_url}?api_key=***",
        f"the train rows shown as parents, to the teacher at {remote_url}?api_key=***",
    ]
    assert facts.report.teacher is not None
    assert facts.report.teacher["endpoint"] == f"{remote_url}?api_key=***"
    built = build_release(home, facts, home.signing_key)
    assert built.recorded

    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert home.ledger in files
    assert home.logs / "run.log" in files
    assert any(p.name == "report.json" for p in files)
    for secret in (PASSWORD, QUERY_KEY):
        assert [p for p in files if secret.encode() in p.read_bytes()] == []
