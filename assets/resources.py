"""Resources: the project configuration and the stores built from it."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from factory.config import FactoryConfig, load_config

__all__ = ["CONFIG_ENV", "FactoryResource", "TeacherResource"]

CONFIG_ENV = "FACTORY_CONFIG"


class FactoryResource(dg.ConfigurableResource):
    """The project's `factory.yaml`, read once per run."""

    config_path: str | None = Field(
        None,
        description="Path to factory.yaml; when unset, $FACTORY_CONFIG, then ./factory.yaml, "
        "then the built-in defaults.",
    )

    @cached_property
    def config(self) -> FactoryConfig:
        """The validated configuration."""
        path = self.config_path or os.environ.get(CONFIG_ENV)
        if path is None and Path("factory.yaml").is_file():
            path = "factory.yaml"
        return load_config(path)

    @property
    def home(self) -> Path:
        """The output home, created on first use."""
        home = self.config.home_dir
        home.mkdir(parents=True, exist_ok=True)
        return home


class TeacherResource(dg.ConfigurableResource):
    """The teacher LLM for one run: llama.cpp's server started on 127.0.0.1 (the default) or an
    OpenAI-compatible endpoint; a started server is stopped by PID when the run ends or fails."""

    factory: dg.ResourceDependency[FactoryResource]

    _teacher: Any = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["TeacherResource"]:
        from factory.teacher import start_teacher

        project = self.factory.config
        config = project.teacher
        if config.model_path:
            config = config.model_copy(
                update={"model_path": str(project.resolve(config.model_path))}
            )
        with start_teacher(config, self.factory.home / "logs") as teacher:
            if context.log is not None:
                context.log.info(f"teacher ready: {teacher!r}")
            self._teacher = teacher
            try:
                yield self
            finally:
                self._teacher = None

    @property
    def teacher(self) -> Any:
        """The running teacher (a `factory.teacher.Teacher`)."""
        if self._teacher is None:
            msg = "the teacher is only available while a run executes"
            raise RuntimeError(msg)
        return self._teacher
