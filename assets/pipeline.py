"""Runs the CLI launches: the stale shards through the `ingest` job, then the pipeline (a round,
a dry run up to the synthesis plan, or a release from the stored tables)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from assets.definitions import ALL_ASSETS, ALL_CHECKS, SHARD_ASSETS, build_resources, defs
from assets.rounds import ROUNDS, add_round, evaluated_round, release_row
from assets.shards import SHARD_PARTITION, new_shards, stale_shards
from factory.config import FactoryConfig
from factory.errors import FactoryError
from factory.home import Home

__all__ = [
    "CheckVerdict",
    "ReleaseOutcome",
    "RunOutcome",
    "failure_message",
    "ingest_shards",
    "release_tables",
    "run_pipeline",
]


def _applicable(metadata: dict[str, Any]) -> bool:
    """False for a quality check that reported itself not applicable (it passes in Dagster)."""
    status = metadata.get("status")
    return getattr(status, "value", status) != "not applicable"


def _logging(level: str) -> dict[str, object]:
    """Run config that sets the level of Dagster's console logger."""
    return {"loggers": {"console": {"config": {"log_level": level}}}}


@dataclass(frozen=True)
class CheckVerdict:
    """One asset check's evaluation in a run."""

    check: str
    asset: str
    passed: bool
    applicable: bool = True


@dataclass(frozen=True)
class RunOutcome:
    """What one `run_pipeline` call materialized; `estimate` is the dry run's synthesis
    estimate (None when synthesis_plan did not run), `report_path` the release report's."""

    run_id: str
    materialized: list[str]
    checks: list[CheckVerdict]
    estimate: str | None = None
    report_path: str | None = None


@dataclass(frozen=True)
class ReleaseOutcome:
    """The run that wrote a release and its `dataset_release` row."""

    run_id: str
    round: int
    row: dict[str, object]


def run_pipeline(
    config: FactoryConfig,
    config_path: str | None,
    select: list[str] | None = None,
    dry_run: bool = False,
    round_number: int = 1,
    on_ingest: Callable[[list[str]], None] | None = None,
    log_level: str = "INFO",
) -> RunOutcome:
    """Materialize `select` (default: everything; a round > 1 re-runs the round's assets) on the
    instance at $DAGSTER_HOME. Round 1 of everything first ingests the stale shards (passed to
    `on_ingest`). A dry run stops at synthesis_plan and carries its estimate. `log_level` is
    the Dagster console's; a failure's full traceback goes to `<home>/logs/run-<id>.log`."""
    selection: object = select or None
    if dry_run:
        if select:
            raise FactoryError("--dry-run plans the whole synthesis; drop --select")
        plan = dg.AssetSelection.assets("synthesis_plan")
        selection = plan.upstream().required_multi_asset_neighbors()
        if round_number > 1:
            selection = selection - _round_assets(partitioned=False)  # type: ignore[operator]
    elif round_number > 1 and not select:
        selection = _round_assets()
    resources = build_resources(config_path)
    with dg.DagsterInstance.get() as instance:
        if round_number == 1 and not select:
            shards = ingest_shards(
                instance, config, resources, {"factory/source": "cli"}, log_level
            )
            if on_ingest is not None:
                on_ingest(shards)
        key = add_round(instance, round_number) if _selects_rounds(selection) else None
        result = dg.materialize(
            [*ALL_ASSETS, *([] if dry_run else ALL_CHECKS)],
            instance=instance,
            resources=resources,
            selection=selection,  # type: ignore[arg-type]
            partition_key=key,
            raise_on_error=False,
            tags={"factory/source": "cli", **({"factory/round": key} if key else {})},
            run_config=_logging(log_level),
        )
    if not result.success:
        raise FactoryError(failure_message(result, Home.of(config).logs))
    done = [
        event.asset_key.to_user_string()
        for event in result.get_asset_materialization_events()
        if event.asset_key is not None
    ]
    checks = [
        CheckVerdict(e.check_name, e.asset_key.to_user_string(), e.passed, _applicable(e.metadata))
        for e in result.get_asset_check_evaluations()
    ]
    row = release_row(Home.of(config), round_number) if "dataset_release" in done else None
    return RunOutcome(
        run_id=result.run_id,
        materialized=done,
        checks=checks,
        estimate=_estimate(result) if dry_run else None,
        report_path=str(row["report_path"]) if row is not None else None,
    )


def release_tables(
    config: FactoryConfig,
    config_path: str | None,
    round_number: int | None = None,
    exclude: list[str] | None = None,
    reason: str | None = None,
) -> ReleaseOutcome:
    """Materialize `dataset_release` of `round_number` (default: the latest evaluated round)
    from the stored tables; with `exclude`, without those documents or sources (a takedown)."""
    home = Home.of(config)
    number = evaluated_round(home, round_number)
    request = {"exclude": list(exclude or []), "reason": reason}
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(
            [*ALL_ASSETS, *ALL_CHECKS],
            instance=instance,
            resources=build_resources(config_path),
            selection=["dataset_release"],
            partition_key=add_round(instance, number),
            raise_on_error=False,
            tags={"factory/source": "cli", "factory/round": str(number)},
            run_config={"ops": {"dataset_release": {"config": request}}, **_logging("INFO")},
        )
    if not result.success:
        raise FactoryError(failure_message(result, home.logs))
    row = release_row(home, number)
    if row is None:
        msg = f"round {number}'s release ran but wrote no dataset_release table under {home.root}"
        raise FactoryError(msg)
    return ReleaseOutcome(run_id=result.run_id, round=number, row=row)


def _selects_rounds(selection: object) -> bool:
    """Whether `selection` (None: everything) holds an asset partitioned by round."""
    if selection is None:
        return True
    graph = defs.resolve_asset_graph()
    chosen = (
        selection
        if isinstance(selection, dg.AssetSelection)
        else dg.AssetSelection.from_coercible(selection)  # type: ignore[arg-type]
    )
    return any(graph.get(key).partitions_def == ROUNDS for key in chosen.resolve(graph))


def _round_assets(partitioned: bool = True) -> dg.AssetSelection:
    """The assets partitioned by round (what a later round re-runs), or the corpus, embedding
    and map assets that every round shares (`partitioned=False`)."""
    keys = [
        key
        for asset in ALL_ASSETS
        for key in asset.keys
        if (asset.partitions_def == ROUNDS) == partitioned
    ]
    return dg.AssetSelection.assets(*keys)


def _estimate(result: object) -> str | None:
    """The synthesis estimate recorded on the plan's materialization, if it ran."""
    for event in result.get_asset_materialization_events():  # type: ignore[attr-defined]
        if event.asset_key is not None and event.asset_key.to_user_string() == "synthesis_plan":
            return str(event.materialization.metadata["estimate_text"].value)
    return None


def ingest_shards(
    instance: dg.DagsterInstance,
    config: FactoryConfig,
    resources: Mapping[str, object],
    tags: Mapping[str, str] | None = None,
    log_level: str = "INFO",
) -> list[str]:
    """Register every shard as a partition and materialize, one run each, those whose inputs
    changed since their last materialization; returns the shards materialized."""
    new = new_shards(instance, config)
    if new:
        instance.add_dynamic_partitions(SHARD_PARTITION, new)
    stale = stale_shards(instance, config)
    for name in stale:
        result = dg.materialize(
            SHARD_ASSETS,
            instance=instance,
            resources=resources,
            partition_key=name,
            raise_on_error=False,
            tags={"factory/shard": name, **(tags or {})},
            run_config=_logging(log_level),
        )
        if not result.success:
            cause = failure_message(result, Home.of(config).logs)
            msg = f"ingesting shard {name!r} failed: {cause}"
            raise FactoryError(msg)
    return stale


def failure_message(result: object, log_dir: Path | None = None) -> str:
    """The deepest error message of the first failed step; with `log_dir`, every failed step's
    full traceback is written to `<log_dir>/run-<run id>.log`, whose path the message names."""
    failures = [e for e in getattr(result, "all_events", []) if e.is_step_failure]
    log_note = ""
    if failures and log_dir is not None:
        path = log_dir / f"run-{getattr(result, 'run_id', 'unknown')}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        texts = [
            f"step {e.step_key}:\n{e.step_failure_data.error.to_string()}"
            for e in failures
            if e.step_failure_data.error is not None
        ]
        path.write_text("\n\n".join(texts), encoding="utf-8")
        log_note = f" (full traceback: {path})"
    for event in failures:
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            message = error.message.strip().splitlines()[-1] if error.message else error.cls_name
            for prefix in ("factory.errors.", f"{error.cls_name}: "):
                message = message.removeprefix(prefix)
            return f"step {event.step_key!r} failed: {message}{log_note}"
    return "the run failed; see the Dagster UI for the logs"
