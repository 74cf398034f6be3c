"""The docs stay true: the README's commands exist, the configuration reference is complete."""

from __future__ import annotations

import re

from factory.config import config_keys
from factory.config_reference import render_reference
from tests.fixtures.paths import REPO


def test_configuration_reference_is_generated_from_the_code() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc == render_reference(), "run: factory config-keys --markdown > docs/configuration.md"
    for key in config_keys():
        assert f"| `{key}` |" in doc


def test_readme_commands_are_make_targets_and_ci_runs_the_test_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"\bmake ([a-z][a-z-]*)", readme))
    missing = sorted(named - targets)
    assert missing == [], f"README names make targets the Makefile lacks: {missing}"
    assert {"demo", "test", "ui"} <= named
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_changelog_has_an_unreleased_section() -> None:
    assert "## Unreleased" in (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
