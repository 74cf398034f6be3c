"""The run console: a line per layer as it starts and ends, bars only on a terminal, timings."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from assets import console
from assets.pipeline import failure_message


def _reporter(terminal: bool = False) -> tuple[console.ConsoleReporter, io.StringIO]:
    out = io.StringIO()
    rich = Console(file=out, force_terminal=terminal, width=120, soft_wrap=True)
    return console.ConsoleReporter(rich), out


def test_a_layer_prints_its_start_and_its_end_with_seconds_and_summary() -> None:
    reporter, out = _reporter()
    console.install(reporter)
    try:
        with console.layer("synthetic_samples") as shown:
            console.progress("synthetic_samples", 3, 80, "targets")  # no bar: not a terminal
            shown.text = "33 accepted, 47 rejected of 80 targets"
    finally:
        console.uninstall()
    lines = out.getvalue().splitlines()
    assert lines[0] == "> synthesis ..."
    assert lines[1].startswith("  done synthesis in ")
    assert lines[1].endswith(" s: 33 accepted, 47 rejected of 80 targets")
    assert [(t.label, t.summary, t.ok) for t in reporter.timings] == [
        ("synthesis", "33 accepted, 47 rejected of 80 targets", True)
    ]


def test_a_failing_layer_is_marked_failed_and_the_error_still_raises() -> None:
    reporter, out = _reporter()
    console.install(reporter)
    try:
        with pytest.raises(RuntimeError, match="teacher down"), console.layer("quality_gates"):
            raise RuntimeError("teacher down")
    finally:
        console.uninstall()
    assert "  failed gates in " in out.getvalue()
    assert reporter.timings[0].ok is False


def test_without_a_reporter_layers_and_progress_do_nothing() -> None:
    with console.layer("corpus_documents", "shard-a") as shown:
        console.progress("corpus_documents", 1, 2)
        shown.text = "ignored"
    assert shown.text == "ignored"


def test_on_a_terminal_the_bar_shows_and_is_gone_when_the_layer_ends() -> None:
    reporter, out = _reporter(terminal=True)
    console.install(reporter)
    try:
        with console.layer("student_checkpoint", "round 1"):
            for step in range(1, 4):
                console.progress("student_checkpoint", step, 3, "steps", "round 1")
            assert reporter._bars is not None
        assert reporter._bars is None
    finally:
        console.uninstall()
    assert "student round 1" in out.getvalue()


def test_the_timing_table_lists_each_layer_and_the_total() -> None:
    reporter, out = _reporter()
    reporter.timings += [
        console.LayerTiming("map", 11.7, "27 clusters"),
        console.LayerTiming("gaps", 1.0, "30 gaps"),
    ]
    reporter.console.print(reporter.timing_table())
    text = out.getvalue()
    assert "seconds per layer" in text
    assert "27 clusters" in text
    assert "12.7" in text  # the total


class _Error:
    def __init__(self, message: str, cause: _Error | None = None) -> None:
        self.message, self.cause, self.cls_name = message, cause, "ConfigError"

    def to_string(self) -> str:
        return f"Traceback (most recent call last):\n  ...\n{self.message}"


class _Failure:
    is_step_failure = True
    step_key = "synthetic_samples_and_rejects"

    def __init__(self, error: _Error) -> None:
        self.step_failure_data = type("Data", (), {"error": error})()


def test_a_failure_names_the_step_and_its_deepest_cause_and_logs_the_traceback(
    tmp_path: object,
) -> None:
    from pathlib import Path

    deepest = _Error("factory.errors.ConfigError: teacher.base_url is missing; set it")
    result = type("Result", (), {"run_id": "r1", "all_events": [_Failure(_Error("x", deepest))]})
    message = failure_message(result(), Path(str(tmp_path)))
    log = Path(str(tmp_path)) / "run-r1.log"
    assert message == (
        "step 'synthetic_samples_and_rejects' failed: teacher.base_url is missing; set it "
        f"(full traceback: {log})"
    )
    assert "Traceback (most recent call last)" in log.read_text()
