"""`RichProgress`: progress bars for LM samples and evaluations, on stderr.

Totals are estimates made before the work is known (an improver may stop early, a resumed run has
done part of it), so while a run goes they are shown as `~N`. When the run ends normally, each
bar is set to what was actually done and ends complete, with an exact count.
"""

from __future__ import annotations

import threading

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class CountColumn(ProgressColumn):
    """`done/~estimate` while running, `done/done` once the bar is finished."""

    def render(self, task: Task) -> Text:
        done = int(task.completed)
        if task.fields.get("exact"):
            return Text(f"{done}/{int(task.total or 0)}")
        return Text(f"{done}/~{int(task.total or 0)}")


class RichProgress:
    """Progress bars with ETA for LM samples and evaluations, on stderr."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            CountColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
            transient=False,
        )
        self._lock = threading.Lock()
        self._samples: TaskID = self.progress.add_task(
            "LM samples", total=0, exact=False, status=""
        )
        self._evals: TaskID = self.progress.add_task("evaluations", total=0, exact=False, status="")

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.finish()
        self.progress.stop()

    def finish(self) -> None:
        """The work is done: every bar ends complete, at its exact count."""
        with self._lock:
            for task in self.progress.tasks:
                self.progress.update(task.id, total=task.completed, exact=True)

    def _grow(self, task: TaskID, by: int) -> None:
        current = self.progress.tasks[task].total or 0
        self.progress.update(task, total=current + by)

    def expect(self, *, samples: int = 0, evaluations: int = 0) -> None:
        with self._lock:
            self._grow(self._samples, samples)
            self._grow(self._evals, evaluations)

    def _advance(self, task: TaskID, n: int) -> None:
        with self._lock:
            state = self.progress.tasks[task]
            if state.completed + n > (state.total or 0):  # estimates are rough: never overflow
                self.progress.update(task, total=state.completed + n)
            self.progress.advance(task, n)

    def lm_samples(self, n: int) -> None:
        self._advance(self._samples, n)

    def evaluations(self, n: int) -> None:
        self._advance(self._evals, n)

    def status(self, text: str) -> None:
        """Shown at the end of the samples bar (e.g. the best score so far)."""
        with self._lock:
            self.progress.update(self._samples, status=escape(text))

    def note(self, text: str) -> None:
        self.progress.console.print(f"[dim]{escape(text)}[/dim]", highlight=False)
