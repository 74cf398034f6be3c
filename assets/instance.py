"""The persistent Dagster instance in the project home, shared by the CLI and the UI."""

from __future__ import annotations

from pathlib import Path

from factory.config import FactoryConfig
from factory.home import Home

__all__ = ["DAGSTER_YAML", "dagster_home"]

DAGSTER_YAML = """\
# Written by factory. Telemetry and first-run pop-ups are off.
telemetry:
  enabled: false
nux:
  enabled: false
"""


def dagster_home(config: FactoryConfig) -> Path:
    """Create and return `HOME/dagster`, with a `dagster.yaml` that disables telemetry."""
    home = Home.of(config).dagster
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        settings.write_text(DAGSTER_YAML, encoding="utf-8")
    return home
