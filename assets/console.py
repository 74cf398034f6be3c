"""What `factory run` shows while the graph runs: a line per layer as it starts and as it
finishes (seconds and its key figure), a progress bar with an ETA on long steps, and the seconds
per layer at the end.

Asset bodies report through `layer(...)` and `progress(...)`. With no reporter installed (the
Dagster UI, the daemon, tests) both do nothing beyond what the Dagster log already shows, so the
same assets run unchanged everywhere.

Example:
    >>> with layer("corpus_documents") as summary:
    ...     summary.text = "2930 documents"
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

__all__ = [
    "LABELS",
    "ConsoleReporter",
    "LayerSummary",
    "LayerTiming",
    "install",
    "layer",
    "progress",
    "uninstall",
]

LABELS = {
    "shard_ingest": "ingest",
    "shard_embeddings": "embed",
    "corpus_documents": "corpus",
    "document_embeddings": "embeddings",
    "semantic_map": "map",
    "coverage_gaps": "gaps",
    "synthesis_plan": "plan",
    "synthetic_samples": "synthesis",
    "quality_gates": "gates",
    "student_checkpoint": "student",
    "student_evaluation": "evaluation",
    "dataset_release": "release",
}
"""Asset (or check) name -> the word a console line uses for its layer."""


@dataclass
class LayerSummary:
    """The key figure of a layer, filled in by its body before it ends."""

    text: str = ""


@dataclass(frozen=True)
class LayerTiming:
    """One finished (or failed) layer: its label, wall seconds, key figure."""

    label: str
    seconds: float
    summary: str
    ok: bool = True


@dataclass
class ConsoleReporter:
    """Prints layer lines and progress bars on `console`; keeps the timings."""

    console: Console
    timings: list[LayerTiming] = field(default_factory=list)
    _bars: Progress | None = None
    _tasks: dict[str, TaskID] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def started(self, label: str) -> None:
        self.console.print(f"[cyan]>[/] {label} ...", highlight=False)

    def finished(self, label: str, seconds: float, summary: str, ok: bool) -> None:
        self._close_bar(label)
        self.timings.append(LayerTiming(label, seconds, summary, ok))
        mark = "[green]done[/]" if ok else "[red]failed[/]"
        detail = f": {summary}" if summary else ""
        self.console.print(f"  {mark} {label} in {seconds:.1f} s{detail}", highlight=False)

    def advance(self, label: str, done: int, total: int, unit: str) -> None:
        """Move `label`'s bar to `done` of `total` (the bar appears on the first call)."""
        if not self.console.is_terminal or total <= 0:
            return
        with self._lock:
            if self._bars is None:
                self._bars = Progress(
                    TextColumn("  {task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn(unit),
                    TimeElapsedColumn(),
                    TextColumn("eta"),
                    TimeRemainingColumn(),
                    console=self.console,
                    transient=True,
                )
                self._bars.start()
            if label not in self._tasks:
                self._tasks[label] = self._bars.add_task(label, total=total)
            self._bars.update(self._tasks[label], completed=done, total=total)

    def _close_bar(self, label: str) -> None:
        with self._lock:
            task = self._tasks.pop(label, None)
            if self._bars is not None and task is not None:
                self._bars.remove_task(task)
            if self._bars is not None and not self._tasks:
                self._bars.stop()
                self._bars = None

    def close(self) -> None:
        """Stop any bar still showing (a run that failed inside a layer)."""
        for label in list(self._tasks):
            self._close_bar(label)

    def timing_table(self) -> Table:
        """Seconds per layer in run order, with the total."""
        table = Table(title="seconds per layer", title_justify="left")
        table.add_column("layer")
        table.add_column("seconds", justify="right")
        table.add_column("result")
        for timing in self.timings:
            table.add_row(timing.label, f"{timing.seconds:.1f}", timing.summary or "")
        total = sum(t.seconds for t in self.timings)
        table.add_row("total", f"{total:.1f}", "", style="bold")
        return table


_REPORTER: ConsoleReporter | None = None


def install(reporter: ConsoleReporter) -> None:
    """Send every `layer` and `progress` of this process to `reporter`."""
    global _REPORTER
    _REPORTER = reporter


def uninstall() -> None:
    """Stop reporting (bars still showing are closed)."""
    global _REPORTER
    if _REPORTER is not None:
        _REPORTER.close()
    _REPORTER = None


def _label(name: str, detail: str | None) -> str:
    base = LABELS.get(name, name)
    return f"{base} {detail}" if detail else base


@contextmanager
def layer(name: str, detail: str | None = None) -> Iterator[LayerSummary]:
    """Report layer `name` (an asset or check name; `detail` names a shard or round) as
    started now and as finished, with its summary and seconds, when the block ends."""
    summary = LayerSummary()
    reporter = _REPORTER
    label = _label(name, detail)
    if reporter is not None:
        reporter.started(label)
    start = time.perf_counter()
    ok = False
    try:
        yield summary
        ok = True
    finally:
        if reporter is not None:
            reporter.finished(label, time.perf_counter() - start, summary.text, ok)


def progress(name: str, done: int, total: int, unit: str = "", detail: str | None = None) -> None:
    """Advance layer `name`'s progress bar (nothing without a reporter)."""
    reporter = _REPORTER
    if reporter is not None:
        reporter.advance(_label(name, detail), done, total, unit)
