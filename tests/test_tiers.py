"""The integration list names modules that exist, and `-m integration` selects their tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.tiers import INTEGRATION_MODULES, pytest_collection_modifyitems

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", sorted(INTEGRATION_MODULES))
def test_each_integration_module_exists(module: str) -> None:
    assert (REPO / module).is_file(), f"{module} is listed in tests/fixtures/tiers.py but gone"


class _Item:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.marks: list[str] = []

    def add_marker(self, mark: pytest.MarkDecorator) -> None:
        self.marks.append(mark.name)


def test_the_hook_marks_only_tests_of_listed_modules(request: pytest.FixtureRequest) -> None:
    heavy = _Item(REPO / "tests/assets/test_pipeline_e2e.py")
    unit = _Item(REPO / "tests/factory/test_hashing.py")
    pytest_collection_modifyitems(request.config, [heavy, unit])  # type: ignore[list-item]
    assert heavy.marks == ["integration"]
    assert unit.marks == []
