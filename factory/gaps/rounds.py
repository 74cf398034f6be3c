"""One round's gaps: round 1 looks for every configured kind, round k > 1 only for
student-failure gaps, from the validation failures of round k-1's student.

Example:
    >>> found = find_round_gaps(semantic_map, clusters, corpus_documents,  # doctest: +SKIP
    ...     document_embeddings, config, code_version="gaps-v3")
    >>> found.gaps.columns[:4]  # doctest: +SKIP
    ['gap_id', 'rank', 'kind', 'score']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from factory.config import FactoryConfig, GapsConfig
from factory.errors import FactoryError
from factory.gaps.candidates import STUDENT_FAILURE
from factory.gaps.find import GapFinding, find_gaps
from factory.gaps.inputs import coverage_reference, read_evaluation
from factory.hashing import fingerprint, frame_fingerprint
from factory.vectors import vectors_for

__all__ = ["RoundGaps", "find_round_gaps", "round_evaluation", "round_gaps_config"]


@dataclass(frozen=True)
class RoundGaps:
    """A round's gap finding with the parameters it ran with and its data version."""

    found: GapFinding
    params: dict[str, Any]
    version: str

    @property
    def gaps(self) -> pl.DataFrame:
        """The ranked `coverage_gaps` table."""
        return self.found.gaps


def round_gaps_config(gaps: GapsConfig, round_number: int) -> GapsConfig:
    """`gaps` for round 1; only the student-failure kind for a later round."""
    if round_number > 1:
        return gaps.model_copy(update={"kinds": [STUDENT_FAILURE]})
    return gaps


def round_evaluation(
    config: FactoryConfig, round_number: int, failures: pl.DataFrame | None = None
) -> pl.DataFrame | None:
    """The (doc_id, correct) results a round's failure gaps come from: for round k > 1 the
    `failures` of round k-1's student (required), for round 1 `gaps.evaluation_path` if set."""
    if round_number > 1:
        if failures is None:
            msg = (
                f"round {round_number} finds gaps where round {round_number - 1}'s student "
                "failed, but no failures were given; pass round k-1's student_evaluation"
            )
            raise FactoryError(msg)
        return failures
    if config.gaps.evaluation_path:
        return read_evaluation(config.resolve(config.gaps.evaluation_path))
    return None


def find_round_gaps(
    semantic_map: pl.DataFrame,
    clusters: pl.DataFrame,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    config: FactoryConfig,
    *,
    code_version: str,
    round_number: int = 1,
    failures: pl.DataFrame | None = None,
) -> RoundGaps:
    """Find round `round_number`'s gaps of the map; the version chains `code_version`, the
    parameters, the map, the labels, the coverage reference and the evaluation results."""
    vectors = vectors_for(document_embeddings, semantic_map["doc_id"].to_list())
    reference, reference_version = coverage_reference(
        config, semantic_map, vectors, document_embeddings["model_fingerprint"].to_list()
    )
    labelled = corpus_documents.filter(pl.col("label").is_not_null())
    labels = dict(zip(labelled["doc_id"].to_list(), labelled["label"].to_list(), strict=True))
    gaps_config = round_gaps_config(config.gaps, round_number)
    evaluation = round_evaluation(config, round_number, failures)
    found = find_gaps(
        semantic_map,
        vectors,
        clusters,
        gaps_config,
        reference=reference,
        labels=labels or None,
        evaluation=evaluation,
    )
    params = {**gaps_config.model_dump(mode="json"), "round": round_number}
    version = fingerprint(
        code_version,
        params,
        frame_fingerprint(semantic_map, ["doc_id", "cluster_id", "density"]),
        frame_fingerprint(labelled, ["doc_id", "label"]),
        reference_version,
        frame_fingerprint(evaluation, ["doc_id", "correct"]) if evaluation is not None else "",
    )
    return RoundGaps(found, params, version)
