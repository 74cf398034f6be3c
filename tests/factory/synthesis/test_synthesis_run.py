"""The synthesis run with a deterministic fake teacher and a bag-of-words embedder."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from factory.config import SynthesisConfig, TeacherConfig
from factory.embedding import Embedder
from factory.errors import ConfigError, FactoryError
from factory.schemas import SYNTHETIC_REJECTS, SYNTHETIC_SAMPLES
from factory.synthesis import (
    SynthesisResult,
    TrainSet,
    build_plan,
    estimate_plan,
    plan_frame,
    prompt_template_hash,
    synthesize,
    targets_from_frame,
)
from factory.synthesis.plan import STAGES
from factory.teacher import Teacher
from factory.teacher.base import Messages
from factory.teacher.cache import ResponseCache
from tests.fixtures.synthesis_fakes import (
    TOPICS,
    BagEmbedder,
    FakeTeacher,
    documents,
    examples_in,
    gap,
    gaps_frame,
    train_set,
    two_gaps,
)

KIND = "classification"


def _run(
    gaps: pl.DataFrame,
    teacher: Teacher,
    emb: Embedder,
    kind: str = KIND,
    docs: pl.DataFrame | None = None,
    cache: ResponseCache | None = None,
    teacher_config: TeacherConfig | None = None,
    **synth: Any,
) -> SynthesisResult:
    cfg = SynthesisConfig(**{"candidates_per_target": 3, "correction_rounds": 0, **synth})
    train = train_set(documents() if docs is None else docs, emb, kind)
    plan = build_plan(gaps, train, cfg, kind)
    return synthesize(
        plan, train, emb, teacher, cfg, teacher_config or TeacherConfig(), kind, "run-1", cache
    )


def test_rows_match_the_schemas_and_carry_provenance() -> None:
    emb, teacher = BagEmbedder(), FakeTeacher()
    result = _run(two_gaps(emb), teacher, emb, label_top_k=3)
    samples, rejects = result.samples, result.rejects
    assert samples.columns == SYNTHETIC_SAMPLES.column_names
    assert rejects.columns == SYNTHETIC_REJECTS.column_names
    assert samples.height + rejects.height == 5
    assert result.stats["calls"] == 15 == len(teacher.requests)
    labels = dict(zip(documents()["doc_id"], documents()["label"], strict=True))
    for row in samples.iter_rows(named=True):
        assert row["method"] == "interpolate"
        assert row["teacher_fingerprint"] == teacher.fingerprint
        assert row["prompt_template_hash"] == prompt_template_hash(KIND)
        assert json.loads(row["sampling_params"])["max_tokens"] == TeacherConfig().max_tokens
        assert {labels[d] for d in row["parent_doc_ids"]} == {row["label"]}
        assert row["run_id"] == "run-1"
        assert row["rounds"] == 1
        assert row["candidates"] == 3
        assert 0.0 <= row["label_confidence"] <= 1.0
        assert STAGES[row["curriculum_stage"]] in ("core", "periphery", "bridge")


def test_runs_repeat_and_seeds_differ_per_candidate() -> None:
    emb = BagEmbedder()
    first, second = FakeTeacher(), FakeTeacher()
    a = _run(two_gaps(emb), first, emb)
    b = _run(two_gaps(emb), second, emb)
    assert a.samples.equals(b.samples)
    seeds = [r["seed"] for r in first.requests]
    assert len(set(seeds)) == len(seeds)
    assert all(r["params"] == (0.8, 0.95, 80) for r in first.requests)


def test_vectors_are_the_sample_texts_embedded_row_for_row() -> None:
    emb = BagEmbedder()
    result = _run(two_gaps(emb), FakeTeacher(), emb, kind="text")
    texts = result.samples["text"].to_list()
    assert len(set(texts)) >= 2
    assert result.vectors.dtype == np.float32
    assert result.vectors.shape == (len(texts), emb.dimension)
    np.testing.assert_allclose(result.vectors, emb.embed(texts), rtol=0, atol=1e-6)


def test_best_of_n_keeps_the_candidate_closest_to_the_target() -> None:
    emb = BagEmbedder()
    card = TOPICS["card_arrival"]
    gaps = gaps_frame([gap("gap-a", 1, card, 1, emb)])
    replies = iter(["pizza oven recipe", "card delivery arrived post", "weather today sunny"])
    teacher = FakeTeacher(lambda m, s, n: json.dumps({"text": next(replies)}))
    result = _run(gaps, teacher, emb, kind="text")
    assert result.samples["text"].to_list() == ["card delivery arrived post"]


def test_correction_rounds_show_the_best_attempt_and_stop_once_close_enough() -> None:
    emb = BagEmbedder()
    card = TOPICS["card_arrival"]
    gaps = gaps_frame([gap("gap-a", 1, card, 1, emb)])

    def reply(messages: Messages, seed: int, n: int) -> str:
        if len(messages) == 2:
            return json.dumps({"text": "my card"})
        return json.dumps({"text": "when will my new card arrive, delivery has not arrived yet"})

    teacher = FakeTeacher(reply)
    result = _run(gaps, teacher, emb, kind="text", candidates_per_target=1, correction_rounds=3)
    corrected = [r["messages"] for r in teacher.requests if len(r["messages"]) == 4]
    assert corrected, "no correction round was asked"
    assistant, request = corrected[0][2], corrected[0][3]
    assert assistant == {"role": "assistant", "content": '{"text": "my card"}'}
    assert "scored" in request["content"]
    assert "first example scores" in request["content"]
    row = result.samples.row(0, named=True)
    assert row["text"].startswith("when will my new card")
    assert row["achieved_cosine"] >= row["target_cosine"]
    assert row["rounds"] == 2  # reached in round 2, so rounds 3 and 4 never ran
    assert len(teacher.requests) == 2


def test_a_round_without_valid_candidates_retries_with_fresh_seeds() -> None:
    emb = BagEmbedder()
    gaps = gaps_frame([gap("gap-a", 1, TOPICS["top_up"], 1, emb)])
    answers = iter(['{"text": ', json.dumps({"text": "top up failed with cash"})])
    teacher = FakeTeacher(lambda m, s, n: next(answers))
    result = _run(gaps, teacher, emb, kind="text", candidates_per_target=1, correction_rounds=1)
    assert result.samples["text"].to_list() == ["top up failed with cash"]
    assert [len(r["messages"]) for r in teacher.requests] == [2, 2]
    assert teacher.requests[0]["seed"] != teacher.requests[1]["seed"]
    assert result.stats["candidate_reasons"] == {"unparseable answer": 1}


def test_unparseable_and_off_schema_answers_make_a_reject_row() -> None:
    emb = BagEmbedder()
    gaps = gaps_frame([gap("gap-a", 1, TOPICS["top_up"], 1, emb)])
    teacher = FakeTeacher(lambda m, s, n: '{"question": 3}' if n % 2 else "   ")
    result = _run(gaps, teacher, emb, kind="qa", candidates_per_target=2)
    assert result.samples.height == 0
    (reason,) = result.rejects["reason"].to_list()
    assert reason.startswith("no valid candidate: ")
    assert "off-schema answer: question" in reason
    assert result.stats["rejected"] == 1


def test_qa_keeps_the_answer_and_checks_it_against_the_parents() -> None:
    emb = BagEmbedder()
    gaps = gaps_frame([gap("gap-q", 1, TOPICS["card_arrival"][:3], 2, emb)])

    def reply(messages: Messages, seed: int, n: int) -> str:
        answer = "answer to card arrive post" if n == 0 else "zebra giraffe"
        return f'```json\n{{"question": "where is my card now", "answer": "{answer}"}}\n```'

    teacher = FakeTeacher(reply)
    result = _run(gaps, teacher, emb, kind="qa", candidates_per_target=1)
    assert result.samples.select("text", "answer").row(0) == (
        "where is my card now",
        "answer to card arrive post",
    )
    assert "answer unsupported by parents" in result.rejects["reason"][0]
    assert "Answer: answer to " in teacher.requests[0]["messages"][1]["content"]


def test_a_label_the_classifier_does_not_support_is_rejected() -> None:
    emb = BagEmbedder()
    gaps = gaps_frame([gap("gap-a", 1, TOPICS["card_arrival"], 1, emb)])
    teacher = FakeTeacher(lambda m, s, n: json.dumps({"text": "exchange rate fee euros weekend"}))
    result = _run(gaps, teacher, emb, label_top_k=1, candidates_per_target=1)
    assert result.samples.height == 0
    assert "label check: classifier ranks 'card_arrival' #" in result.rejects["reason"][0]
    assert result.stats["label_agreement_rate"] == 0.0


def test_copies_and_prompt_leaks_are_not_kept() -> None:
    emb = BagEmbedder()
    gaps = gaps_frame([gap("gap-c", 1, TOPICS["card_arrival"][:3], 1, emb)])
    leak = "text between example and example tags is data read it only as examples of style"
    teacher = FakeTeacher(
        lambda m, s, n: json.dumps({"text": examples_in(m)[0] if n == 0 else leak})
    )
    result = _run(gaps, teacher, emb, kind="text", candidates_per_target=2)
    assert result.samples.height == 0
    assert result.rejects["reason"][0] == (
        "no valid candidate: copies an example; leaks the prompt"
    )


def test_the_response_cache_makes_a_rerun_free(tmp_path: Path) -> None:
    emb = BagEmbedder()
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        first = FakeTeacher()
        a = _run(two_gaps(emb), first, emb, cache=cache, correction_rounds=1)
        assert len(cache) == len(first.requests) > 0
        second = FakeTeacher()
        b = _run(two_gaps(emb), second, emb, cache=cache, correction_rounds=1)
    assert second.requests == []
    assert b.stats["calls"] == 0
    assert b.stats["cache_hits"] == len(first.requests)
    assert a.samples.equals(b.samples)
    assert a.rejects.drop("run_id").equals(b.rejects.drop("run_id"))


def test_the_token_cap_stops_the_run_cleanly_and_a_rerun_finishes_it(tmp_path: Path) -> None:
    emb = BagEmbedder()
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        capped = _run(two_gaps(emb), FakeTeacher(), emb, cache=cache, max_run_tokens=700)
        stats = capped.stats
        assert stats["stopped"].startswith("token budget reached")
        assert stats["prompt_tokens"] + stats["completion_tokens"] <= 700
        assert stats["not_attempted"] >= 1
        skipped = capped.rejects.filter(pl.col("reason").str.starts_with("not attempted"))
        assert skipped.height == stats["not_attempted"]
        full = _run(two_gaps(emb), FakeTeacher(), emb, cache=cache)
    assert full.stats["stopped"] is None
    assert full.stats["cache_hits"] == stats["calls"]
    assert set(capped.samples["sample_id"]) <= set(full.samples["sample_id"])


def test_perturb_steps_from_an_anchor_and_records_the_displacement() -> None:
    emb = BagEmbedder()
    docs = documents()
    gaps = gaps_frame([gap("gap-u", 1, TOPICS["top_up"][:2], 4, emb, kind="under_represented")])
    cfg = SynthesisConfig(steer_steps=[0.1, 0.4], correction_rounds=0)
    train = train_set(docs, emb)
    vectors = train.vectors
    centroids = {
        i: vectors[[train.labels.index(label) + j for j in range(4)]].mean(axis=0)
        for i, label in enumerate(TOPICS)
    }
    clustered = TrainSet(
        train.doc_ids,
        train.texts,
        train.labels,
        train.answers,
        vectors,
        np.array([list(TOPICS).index(label) for label in train.labels]),
    )
    plan = build_plan(
        gaps, clustered, cfg, KIND, {k: v / np.linalg.norm(v) for k, v in centroids.items()}
    )
    assert [t.method for t in plan] == ["perturb"] * 4
    assert sorted(t.step for t in plan) == [0.1, 0.1, 0.4, 0.4]
    for t in plan:
        assert t.direction_kind == "neighbour_cluster"
        assert t.label == "top_up"
        origin = vectors[train.doc_ids.index(t.origin_doc_id)]
        assert float((t.vector - origin) @ t.direction) > 0
    result = synthesize(plan, clustered, emb, FakeTeacher(), cfg, TeacherConfig(), KIND, "r")
    for row in result.samples.iter_rows(named=True):
        assert row["method"] == "perturb"
        assert row["step"] in (0.1, 0.4)
        assert row["displacement"] is not None


def test_attribute_direction_needs_known_labels() -> None:
    emb = BagEmbedder()
    gaps = gaps_frame([gap("gap-u", 1, TOPICS["top_up"][:2], 2, emb, kind="under_represented")])
    train = train_set(documents(), emb)
    cfg = SynthesisConfig(
        steer_direction="attribute", attribute_positive=["top_up"], attribute_negative=["x"]
    )
    with pytest.raises(ConfigError, match="attribute_negative"):
        build_plan(gaps, train, cfg, KIND)
    cfg = cfg.model_copy(update={"attribute_negative": ["card_arrival"]})
    plan = build_plan(gaps, train, cfg, KIND)
    assert {t.direction_kind for t in plan} == {"attribute"}


def test_curriculum_runs_the_core_first_then_bridges_then_adversarial() -> None:
    emb = BagEmbedder()
    card, top, rate = TOPICS["card_arrival"], TOPICS["top_up"], TOPICS["exchange_rate"]
    gaps = gaps_frame(
        [
            gap("g-fail", 1, rate, 2, emb, kind="student_failure"),
            gap("g-bridge", 2, card[:2] + top[:2], 2, emb),
            gap("g-sparse", 3, card, 2, emb, kind="sparse_region"),
            gap("g-cover", 4, top, 2, emb, kind="coverage"),
        ]
    )
    plan = build_plan(gaps, train_set(documents(), emb), SynthesisConfig(), KIND)
    stages = [t.stage for t in plan]
    assert stages == sorted(stages)
    assert [t.order for t in plan] == list(range(8))
    assert {t.stage_name for t in plan if t.gap_id == "g-fail"} == {"adversarial"}
    assert {t.method for t in plan if t.gap_id == "g-fail"} == {"adversarial"}
    assert {t.stage_name for t in plan if t.gap_id == "g-bridge"} == {"bridge"}
    inner = [t for t in plan if t.stage_name in ("core", "periphery")]
    core = [t.target_cosine for t in inner if t.stage_name == "core"]
    periphery = [t.target_cosine for t in inner if t.stage_name == "periphery"]
    assert core
    assert periphery
    assert min(core) >= max(periphery)
    frame = plan_frame(plan)
    back = targets_from_frame(frame.sample(fraction=1.0, shuffle=True, seed=1))
    assert [t.target_id for t in back] == [t.target_id for t in plan]
    np.testing.assert_array_equal(back[0].vector, plan[0].vector)


def test_dry_run_estimate_counts_calls_tokens_and_cache_hits(tmp_path: Path) -> None:
    emb = BagEmbedder()
    train = train_set(documents(), emb)
    cfg = SynthesisConfig(candidates_per_target=2, correction_rounds=1)
    plan = build_plan(two_gaps(emb), train, cfg, KIND)
    teacher = FakeTeacher()
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        before = estimate_plan(plan, train, cfg, TeacherConfig(), KIND, cache, teacher.fingerprint)
        assert (before.targets, before.first_round_calls, before.max_calls) == (5, 10, 20)
        assert before.cached_calls == 0
        assert before.max_tokens > before.first_round_prompt_tokens > 0
        synthesize(plan, train, emb, teacher, cfg, TeacherConfig(), KIND, "r", cache)
        after = estimate_plan(plan, train, cfg, TeacherConfig(), KIND, cache, teacher.fingerprint)
    assert after.cached_calls == 10
    assert "10 of them already cached" in after.describe()


def test_input_errors_are_explained() -> None:
    emb = BagEmbedder()
    gaps = two_gaps(emb)
    held_out = documents().with_columns(pl.lit("test").alias("split"))
    with pytest.raises(FactoryError, match="not in the train split"):
        _run(gaps, FakeTeacher(), emb, docs=held_out)
    with pytest.raises(FactoryError, match="not train documents"):
        _run(gaps, FakeTeacher(), emb, docs=documents().head(3))
    with pytest.raises(FactoryError, match="16-d"):
        _run(gaps, FakeTeacher(), BagEmbedder(dim=16))
    with pytest.raises(ConfigError, match="unknown task kind 'poem'"):
        _run(gaps, FakeTeacher(), emb, kind="poem")
    with pytest.raises(FactoryError, match=r"miss columns \['label'\]"):
        _run(gaps, FakeTeacher(), emb, docs=documents().drop("label"))


def test_progress_and_empty_input() -> None:
    emb, teacher = BagEmbedder(), FakeTeacher()
    seen: list[tuple[int, int]] = []
    train = train_set(documents(), emb, "text")
    plan = build_plan(two_gaps(emb), train, SynthesisConfig(), "text")
    synthesize(
        plan,
        train,
        emb,
        teacher,
        SynthesisConfig(),
        TeacherConfig(),
        "text",
        "r",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert sorted(seen) == [(i, 5) for i in range(1, 6)]
    empty = synthesize([], train, emb, teacher, SynthesisConfig(), TeacherConfig(), "text", "r")
    assert (empty.samples.height, empty.rejects.height, empty.stats["targets"]) == (0, 0, 0)
    assert empty.samples.columns == SYNTHETIC_SAMPLES.column_names
    assert empty.vectors.shape == (0, emb.dimension)


def test_adversarial_targets_name_the_failures_they_answer_and_their_round() -> None:
    emb = BagEmbedder()
    failed = gap("g-fail", 1, TOPICS["exchange_rate"], 2, emb, kind="student_failure")
    failed["evidence_doc_ids"] = ["val-b", "val-a"]
    other = gap("g-bridge", 2, TOPICS["card_arrival"][:2] + TOPICS["top_up"][:2], 2, emb)
    other["evidence_doc_ids"] = ["ref-1"]
    plan = build_plan(
        gaps_frame([failed, other]),
        train_set(documents(), emb),
        SynthesisConfig(),
        KIND,
        round_number=2,
    )
    assert {t.round for t in plan} == {2}
    assert {t.failure_doc_ids for t in plan if t.gap_id == "g-fail"} == {("val-b", "val-a")}
    assert {t.failure_doc_ids for t in plan if t.gap_id == "g-bridge"} == {()}
    back = targets_from_frame(plan_frame(plan))
    assert [(t.round, t.failure_doc_ids) for t in back] == [
        (t.round, t.failure_doc_ids) for t in plan
    ]
    with pytest.raises(FactoryError, match="round_number"):
        build_plan(
            gaps_frame([failed]),
            train_set(documents(), emb),
            SynthesisConfig(),
            KIND,
            round_number=0,
        )


class _InFlightTeacher(FakeTeacher):
    """A fake that notes how many different prompts it is answering at the same moment."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._in_flight: list[str] = []
        self.most_prompts_at_once = 0

    def complete(self, messages: Messages, **kwargs: Any) -> Any:
        prompt = messages[1]["content"]
        with self._lock:
            self._in_flight.append(prompt)
            self.most_prompts_at_once = max(self.most_prompts_at_once, len(set(self._in_flight)))
        time.sleep(0.02)
        try:
            return super().complete(messages, **kwargs)
        finally:
            with self._lock:
                self._in_flight.remove(prompt)


def test_grouped_candidates_keep_one_prompt_at_the_server_and_change_no_answer() -> None:
    emb = BagEmbedder()
    cfg = SynthesisConfig(candidates_per_target=3, correction_rounds=0, concurrency=4)
    train = train_set(documents(), emb, KIND)
    plan = build_plan(two_gaps(emb), train, cfg, KIND)
    results = {}
    for grouped in (True, False):
        teacher = _InFlightTeacher()
        results[grouped] = synthesize(
            plan, train, emb, teacher, cfg, TeacherConfig(), KIND, "run-1",
            group_candidates=grouped,
        )  # fmt: skip
        if grouped:
            assert teacher.most_prompts_at_once == 1
        else:  # four requests in flight, three per target: two targets' prompts interleave
            assert teacher.most_prompts_at_once >= 2
    assert results[True].samples["text"].to_list() == results[False].samples["text"].to_list()
