"""A file-backed Great Expectations project that stores every validation and renders Data Docs.

`DocsProject(root)` keeps a GX 1.x file context under `root` (`root/gx/...`): each family's suite
is saved there, each validation runs through a Checkpoint whose `UpdateDataDocsAction` renders
it into the local Data Docs site, and the full result JSON is written beside it, named by the
run, so lineage can point at it.

Example:
    >>> project = DocsProject(home.quality)  # doctest: +SKIP
    >>> report = run_suites(measured, thresholds, blocking, validator=project.validator("run-1"))
    ... # doctest: +SKIP
    >>> project.index_url()  # doctest: +SKIP
    'file:///.../quality/gx/uncommitted/data_docs/local_site/index.html'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import great_expectations as gx
import pandas as pd

import checks.expectations  # noqa: F401  (registers the custom expectations)
from factory.hashing import hash_file

__all__ = ["DocsProject", "results_dir"]

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def results_dir(root: Path, run_name: str) -> Path:
    """Where the result JSON files of run `run_name` lie under a project `root`."""
    return Path(root) / "results" / _SAFE.sub("_", run_name)


class DocsProject:
    """A GX file context under `root`; validations are stored, rendered and saved as JSON."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._context: Any = None

    @property
    def context(self) -> Any:
        """The GX file data context (created on first use)."""
        if self._context is None:
            from great_expectations.data_context.types.base import ProgressBarsConfig

            self._context = gx.get_context(mode="file", project_root_dir=str(self.root))
            self._context.variables.progress_bars = ProgressBarsConfig(globally=False)
        return self._context

    def results_dir(self, run_name: str) -> Path:
        """Where the result JSON files of run `run_name` are written."""
        return results_dir(self.root, run_name)

    def validator(
        self, run_name: str
    ) -> Callable[[str, gx.ExpectationSuite, pd.DataFrame], dict[str, Any]]:
        """A `run_suites` validator storing and rendering each family's result under `run_name`."""

        def validate(family: str, suite: gx.ExpectationSuite, frame: pd.DataFrame) -> dict:
            return self.validate(run_name, family, suite, frame)

        return validate

    def validate(
        self, run_name: str, family: str, suite: gx.ExpectationSuite, frame: pd.DataFrame
    ) -> dict[str, Any]:
        """Save `suite`, validate `frame` through a checkpoint that updates Data Docs."""
        from great_expectations.checkpoint import UpdateDataDocsAction
        from great_expectations.core.run_identifier import RunIdentifier

        context = self.context
        source = _get_or_add_pandas(context, "factory")
        asset = _get_or_add_asset(source, f"{family}_metrics")
        batch = _get_or_add_batch_definition(asset)
        suite = context.suites.add_or_update(suite)
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"factory_{family}", data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"factory_{family}",
                validation_definitions=[definition],
                actions=[UpdateDataDocsAction(name="update_data_docs")],
                result_format={"result_format": "COMPLETE"},
            )
        )
        outcome = checkpoint.run(
            batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=run_name)
        )
        (identifier, result), *_ = outcome.run_results.items()
        payload = dict(result.to_json_dict())
        page = self._page_url(identifier)
        out = self.results_dir(run_name) / f"{family}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(payload, indent=1, sort_keys=True, default=str) + "\n")
        payload["factory_meta"] = {
            "result_path": str(out),
            "result_sha256": hash_file(out),
            "data_docs_page": page,
        }
        return payload

    def index_url(self) -> str | None:
        """The Data Docs site's index page (file URL), or None before the first build."""
        sites = self.context.get_docs_sites_urls()
        return sites[0]["site_url"] if sites else None

    def _page_url(self, identifier: Any) -> str | None:
        sites = self.context.get_docs_sites_urls(resource_identifier=identifier)
        return sites[0]["site_url"] if sites else None


def _get_or_add_pandas(context: Any, name: str) -> Any:
    try:
        return context.data_sources.get(name)
    except (KeyError, ValueError, gx.exceptions.DataContextError):
        return context.data_sources.add_pandas(name)


def _get_or_add_asset(source: Any, name: str) -> Any:
    try:
        return source.get_asset(name)
    except LookupError:
        return source.add_dataframe_asset(name)


def _get_or_add_batch_definition(asset: Any) -> Any:
    try:
        return asset.get_batch_definition("whole")
    except (KeyError, LookupError):
        return asset.add_batch_definition_whole_dataframe("whole")
