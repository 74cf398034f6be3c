"""The test suite's plugins: every shared fixture lives in `tests/fixtures/` (see its docstring)."""

pytest_plugins = [
    "tests.fixtures.environment",
    "tests.fixtures.data",
    "tests.fixtures.models",
    "tests.fixtures.hub",
    "tests.fixtures.samples",
    "tests.fixtures.release",
    "tests.fixtures.celery",
    "tests.fixtures.pipeline",
    "tests.fixtures.lineage_tables",
    "tests.fixtures.teacher_scripted",
    "tests.fixtures.tiers",
]
