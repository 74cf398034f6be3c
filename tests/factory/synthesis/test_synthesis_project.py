"""A project's synthesis: the run through its teacher cache, the dry-run estimate, the params."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factory.config import FactoryConfig
from factory.home import Home
from factory.synthesis import (
    build_plan,
    estimate_configured_plan,
    prompt_template_hash,
    synthesis_params,
    synthesize_cached,
)
from tests.fixtures.synthesis_fakes import BagEmbedder, FakeTeacher, documents, train_set, two_gaps

KIND = "classification"


def _config(tmp_path: Path, **synthesis: Any) -> FactoryConfig:
    return FactoryConfig.from_dict(
        {
            "home": str(tmp_path / "home"),
            "task": {"kind": KIND},
            "teacher": {"backend": "openai", "base_url": "http://127.0.0.1:9/v1"},
            "synthesis": {"candidates_per_target": 2, "correction_rounds": 1, **synthesis},
        },
        base_dir=tmp_path,
    )


def test_the_run_fills_the_project_cache_and_the_estimate_counts_its_hits(tmp_path: Path) -> None:
    config = _config(tmp_path)
    emb = BagEmbedder()
    train = train_set(documents(), emb)
    plan = build_plan(two_gaps(emb), train, config.synthesis, KIND)
    teacher = FakeTeacher()
    cache = Home.of(config).teacher_cache

    before = estimate_configured_plan(config, plan, train, teacher.fingerprint)
    assert (before.first_round_calls, before.cached_calls) == (10, 0)
    assert before.tokenizer == "3 characters per token"  # no local weights to count with
    assert not cache.exists()  # a dry run creates no cache

    first = synthesize_cached(plan, train, emb, teacher, config, "run-1")
    assert first.samples.height + first.rejects.height == 5
    assert teacher.requests
    assert cache.is_file()

    after = estimate_configured_plan(config, plan, train, teacher.fingerprint)
    assert after.cached_calls == after.first_round_calls == 10
    assert estimate_configured_plan(config, plan, train, None).cached_calls == 0

    again = FakeTeacher()
    second = synthesize_cached(plan, train, emb, again, config, "run-1")
    assert again.requests == []  # every answer came from the cache, closed and reopened
    assert second.samples.equals(first.samples)


def test_without_the_cache_nothing_is_stored(tmp_path: Path) -> None:
    config = _config(tmp_path, cache=False)
    emb = BagEmbedder()
    train = train_set(documents(), emb)
    plan = build_plan(two_gaps(emb), train, config.synthesis, KIND)
    teacher = FakeTeacher()
    synthesize_cached(plan, train, emb, teacher, config, "run-1")
    assert len(teacher.requests) >= 10
    assert not Home.of(config).teacher_cache.exists()


def test_params_name_the_settings_and_the_template_but_no_key_variable(tmp_path: Path) -> None:
    config = FactoryConfig.from_dict(
        {"teacher": {"backend": "openai", "api_key_env": "MY_KEY"}, "task": {"kind": "qa"}},
        base_dir=tmp_path,
    )
    params = synthesis_params(config)
    assert list(params) == ["synthesis", "teacher", "checks", "prompt_template_hash"]
    assert params["prompt_template_hash"] == prompt_template_hash("qa")
    assert "api_key_env" not in params["teacher"]
    assert params["teacher"]["backend"] == "openai"
    assert params["synthesis"] == config.synthesis.model_dump(mode="json")
