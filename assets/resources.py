"""Resources: the project configuration and the stores built from it."""

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from assets.launchpad import BudgetOverrides, TeacherOverrides, ThresholdOverrides, apply_overrides
from factory.config import FactoryConfig, load_config
from factory.home import Home

__all__ = ["CONFIG_ENV", "FactoryResource", "TeacherResource"]

CONFIG_ENV = "FACTORY_CONFIG"


class FactoryResource(dg.ConfigurableResource):
    """The project's `factory.yaml`, read once per run, with the launchpad's overrides on top.

    `config_path` is pinned where the definitions are built (the CLI's `--config`, else
    $FACTORY_CONFIG): a resource dependency, not config, so the launchpad cannot point a run at
    another file on the host (Dagster refuses a run config that sets it). Having a dependency
    makes it a context-manager resource: call an asset directly inside
    `with dg.build_asset_context(resources={"factory": ...}) as context:`."""

    config_path: dg.ResourceDependency[str | None] = Field(
        None,
        description="Path to factory.yaml, pinned when the definitions are built (not settable "
        "from the launchpad); when unset, $FACTORY_CONFIG, then ./factory.yaml, then the "
        "built-in defaults.",
    )
    budgets: BudgetOverrides = Field(
        default_factory=BudgetOverrides,
        description="Budgets of this run (gaps, teacher calls and tokens, training steps).",
    )
    thresholds: ThresholdOverrides = Field(
        default_factory=ThresholdOverrides,
        description="Quality-gate thresholds of this run.",
    )
    teacher: TeacherOverrides = Field(
        default_factory=TeacherOverrides,
        description="Teacher sampling settings of this run.",
    )

    @cached_property
    def config(self) -> FactoryConfig:
        """The validated configuration."""
        path = self.config_path or os.environ.get(CONFIG_ENV)
        if path is None and Path("factory.yaml").is_file():
            path = "factory.yaml"
        return apply_overrides(load_config(path), self.budgets, self.thresholds, self.teacher)

    @property
    def home(self) -> Home:
        """The output home, created on first use."""
        return Home.of(self.config).ensure()


class TeacherResource(dg.ConfigurableResource):
    """The teacher LLM for one run: llama.cpp's server on 127.0.0.1 (the default) or an
    OpenAI-compatible endpoint. Nothing starts until an asset first asks for `teacher`, and
    `release()` stops a started server early (synthesis calls it when done, so the server does
    not compete with embedding or training for the CPU); it is stopped by PID when the run ends
    or fails in any case."""

    factory: dg.ResourceDependency[FactoryResource]

    _teacher: Any = PrivateAttr(default=None)
    _stack: Any = PrivateAttr(default=None)
    _log: Any = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["TeacherResource"]:
        self._log = context.log
        try:
            yield self
        finally:
            self.release()

    def _config(self) -> Any:
        project = self.factory.config
        config = project.teacher
        if config.model_path:
            config = config.model_copy(
                update={"model_path": str(project.resolve(config.model_path))}
            )
        return config

    @property
    def teacher(self) -> Any:
        """The running teacher (a `factory.teacher.Teacher`), started on first use."""
        if self._teacher is None:
            from factory.teacher import start_teacher

            stack = ExitStack()
            self._teacher = stack.enter_context(
                start_teacher(self._config(), self.factory.home.logs)
            )
            self._stack = stack
            if self._log is not None:
                self._log.info(f"teacher ready: {self._teacher!r}")
        return self._teacher

    @property
    def offline_fingerprint(self) -> str | None:
        """The teacher's fingerprint without starting it (local weights), else None."""
        from factory.teacher import offline_fingerprint

        return offline_fingerprint(self._config())

    def release(self) -> None:
        """Stop the teacher if it was started; the next `teacher` access starts it again."""
        stack, self._stack, self._teacher = self._stack, None, None
        if stack is not None:
            stack.close()
