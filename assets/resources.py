"""Resources: the project configuration and the stores built from it."""


import os
from functools import cached_property
from pathlib import Path

import dagster as dg
from pydantic import Field

from factory.config import FactoryConfig, load_config

__all__ = ["CONFIG_ENV", "FactoryResource"]

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
