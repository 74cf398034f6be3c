"""A round's gaps: which kinds a round looks for, where its evaluation comes from, its version."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from factory.config import FactoryConfig, GapsConfig
from factory.errors import FactoryError
from factory.gaps import STUDENT_FAILURE
from factory.gaps.rounds import find_round_gaps, round_evaluation, round_gaps_config
from factory.hashing import fingerprint, frame_fingerprint
from tests.fixtures.planted_gaps import PlantedMap, make_planted_map

CODE = "gaps-test"


@pytest.fixture(scope="module")
def planted() -> PlantedMap:
    return make_planted_map()


def _config(tmp_path: Path, **gaps: object) -> FactoryConfig:
    return FactoryConfig.from_dict(
        {"home": str(tmp_path / "home"), "gaps": gaps}, base_dir=tmp_path
    )


def _tables(planted: PlantedMap) -> tuple[pl.DataFrame, pl.DataFrame]:
    ids = planted.semantic_map["doc_id"].to_list()
    labels = [f"g{planted.groups[d]}" if i % 3 else None for i, d in enumerate(ids)]
    documents = pl.DataFrame({"doc_id": ids, "label": labels})
    embeddings = pl.DataFrame(
        {"doc_id": ids, "vector": planted.vectors, "model_fingerprint": ["m"] * len(ids)}
    )
    return documents, embeddings


def _failures(planted: PlantedMap) -> pl.DataFrame:
    sm = planted.semantic_map
    held = sm.filter(pl.col("split") == "validation")["doc_id"].to_list()
    return pl.DataFrame({"doc_id": held, "correct": [planted.groups[d] != 4 for d in held]})


def test_round_one_keeps_the_kinds_and_later_rounds_look_only_for_failures() -> None:
    gaps = GapsConfig(total_budget=17)
    assert round_gaps_config(gaps, 1) == gaps
    later = round_gaps_config(gaps, 3)
    assert later.kinds == [STUDENT_FAILURE]
    assert later.model_dump(exclude={"kinds"}) == gaps.model_dump(exclude={"kinds"})
    assert gaps.kinds != [STUDENT_FAILURE]  # the project's config is left alone


def test_round_evaluation_comes_from_the_file_in_round_one_and_the_student_later(
    tmp_path: Path,
) -> None:
    assert round_evaluation(_config(tmp_path), 1) is None
    path = tmp_path / "eval.csv"
    path.write_text("doc_id,correct\na,true\nb,false\n", encoding="utf-8")
    config = _config(tmp_path, evaluation_path=str(path))
    first = round_evaluation(config, 1)
    assert first is not None
    assert first.to_dicts() == [{"doc_id": "a", "correct": True}, {"doc_id": "b", "correct": False}]
    failures = pl.DataFrame({"doc_id": ["c"], "correct": [False]})
    assert round_evaluation(config, 2, failures) is failures  # the file is round 1's only
    with pytest.raises(FactoryError, match="no failures were given"):
        round_evaluation(config, 2)


def test_a_later_round_finds_only_failure_gaps_under_its_own_version(
    tmp_path: Path, planted: PlantedMap
) -> None:
    documents, embeddings = _tables(planted)
    sm, clusters = planted.semantic_map, planted.clusters
    config = _config(tmp_path, total_budget=12)
    first = find_round_gaps(sm, clusters, documents, embeddings, config, code_version=CODE)
    assert first.params["round"] == 1
    assert first.gaps.height >= 1
    assert STUDENT_FAILURE not in set(first.gaps["kind"])  # no evaluation in round 1

    failures = _failures(planted)
    second = find_round_gaps(
        sm,
        clusters,
        documents,
        embeddings,
        config,
        code_version=CODE,
        round_number=2,
        failures=failures,
    )
    assert set(second.gaps["kind"]) == {STUDENT_FAILURE}
    assert second.params["kinds"] == [STUDENT_FAILURE]
    assert second.params["round"] == 2
    assert int(second.gaps["budget"].sum()) == 12
    assert second.version != first.version

    labelled = documents.filter(pl.col("label").is_not_null())
    validation = sm.filter(pl.col("split") == "validation")["doc_id"].to_list()
    assert second.version == fingerprint(  # stored versions stay valid: same inputs, same order
        CODE,
        second.params,
        frame_fingerprint(sm, ["doc_id", "cluster_id", "density"]),
        frame_fingerprint(labelled, ["doc_id", "label"]),
        fingerprint("validation", sorted(validation)),
        frame_fingerprint(failures, ["doc_id", "correct"]),
    )
    relabelled = documents.with_columns(pl.lit("g0").alias("label"))
    again = find_round_gaps(
        sm,
        clusters,
        relabelled,
        embeddings,
        config,
        code_version=CODE,
        round_number=2,
        failures=failures,
    )
    assert again.version != second.version
