"""Progress output: a progress bar on a terminal, plain log lines otherwise (CI logs, Cloud Run)."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any


class ScanProgress:
    """Call with the name of each step as it starts; `steps` is how many the scan will take."""

    def __init__(self, steps: int, *, quiet: bool = False, terminal: bool | None = None) -> None:
        self.steps = max(steps, 1)
        self.quiet = quiet
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self._bar: Any = None
        self._task: Any = None
        self._started = 0

    def __enter__(self) -> ScanProgress:
        if not self.quiet and self.terminal:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True))
            self._bar.start()
            self._task = self._bar.add_task("starting", total=self.steps)
        return self

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        if self._bar is None:
            print(f"audit: {message}", file=sys.stderr, flush=True)
            return
        if self._started:
            self._bar.advance(self._task)
        self._started += 1
        self._bar.update(self._task, description=message)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            if kind is None:
                self._bar.update(self._task, completed=self.steps, description="done")
            self._bar.stop()
