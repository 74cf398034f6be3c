"""Render the configuration reference (docs/configuration.md) from the config models."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from factory.config import FactoryConfig, config_keys

__all__ = ["render_reference"]

_INTRO = """\
# Configuration reference

One file, `factory.yaml`, configures a project; the CLI (`factory run --config FILE`) and the
Dagster code location (`$FACTORY_CONFIG`, else `./factory.yaml`) read the same file. Unknown keys
are rejected with a message naming them and the valid keys. Relative paths are resolved against
the config file's folder. This page is generated from the code by `factory config-keys --markdown`
and a test keeps it equal to that output.

| key | default | meaning |
| --- | --- | --- |
"""


def _default(config: FactoryConfig, key: str) -> str:
    value: Any = config
    for part in key.replace("[]", ".0").split("."):
        if value is None:  # a key inside an optional section that is unset by default
            return "(unset section)"
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    if isinstance(value, BaseModel) or (
        isinstance(value, list) and value and isinstance(value[0], BaseModel)
    ):
        return ""
    return f"`{json.dumps(value)}`"


def render_reference() -> str:
    """The Markdown reference: every key, its default and its description."""
    config = FactoryConfig()
    rows = [
        f"| `{key}` | {_default(config, key)} | {text.replace('|', '/')} |"
        for key, text in config_keys().items()
    ]
    return _INTRO + "\n".join(rows) + "\n"
