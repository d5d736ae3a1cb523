"""Progress output that moves with the work: repositories and tags read (and buckets), as the sources read them.

On a terminal, a rich progress display: the current step, and a bar per kind of work whose total grows as the
sources discover work (a registry's catalog names its repositories page by page, each tag list its tags).
Elsewhere (CI logs, Cloud Run), plain lines: one per step, and the counts at most every `interval` seconds.

How the sources report without knowing about the display: the scan installs a `Work` for the duration of the
reads (`reporting`), and a source calls `work().found(kind, n)` when it learns of work and
`work().done(kind, n)` when it has read it. Outside a scan `work()` is a no-op. A context variable rather
than a parameter: every source, and every coroutine an asyncio source starts, sees the one the scan set,
without each constructor and helper passing it along.

Every line printed here goes through `console.safe`: step names carry registry URLs, which are user input.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Protocol, TextIO

from .console import safe

# The kinds of work, in display order.
KINDS = ("repositories", "tags", "buckets")


class Work(Protocol):
    def found(self, kind: str, count: int = 1) -> None:
        """`count` more units of `kind` to read (discovered)."""
        ...

    def done(self, kind: str, count: int = 1) -> None:
        """`count` units of `kind` read (or given up on: an error is work finished too)."""
        ...


class _NoWork:
    def found(self, kind: str, count: int = 1) -> None:
        pass

    def done(self, kind: str, count: int = 1) -> None:
        pass


_NO_WORK = _NoWork()
_CURRENT: ContextVar[Work | None] = ContextVar("registry_guard_work", default=None)


def work() -> Work:
    """Where a source reports its progress: the scan's display during a scan, else nothing."""
    return _CURRENT.get() or _NO_WORK


@contextlib.contextmanager
def reporting(sink: Work) -> Iterator[None]:
    token = _CURRENT.set(sink)
    try:
        yield
    finally:
        _CURRENT.reset(token)


class ScanProgress:
    """Call with the name of each step as it starts; sources report repositories, tags and buckets through
    `work()` while `reporting(self)` is active. `clock` and `out` are injectable for tests."""

    def __init__(self, *, quiet: bool = False, terminal: bool | None = None, interval: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, out: TextIO | None = None) -> None:
        self.quiet = quiet
        self.out = out
        self.terminal = (self._out.isatty() if terminal is None else terminal)
        self.interval = interval
        self.clock = clock
        self.found_count = dict.fromkeys(KINDS, 0)
        self.done_count = dict.fromkeys(KINDS, 0)
        self._bar: Any = None
        self._step: Any = None
        self._tasks: dict[str, Any] = {}
        self._last_line = clock()
        self._changed = False

    @property
    def _out(self) -> TextIO:
        return self.out if self.out is not None else sys.stderr

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

            # markup=False: a step names a registry URL, which must never be read as rich markup.
            self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=Console(file=self._out, stderr=self.out is None))
            self._bar.start()
            self._step = self._bar.add_task("starting", total=None)
        return self

    def __call__(self, message: str) -> None:
        """A new step starts."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(self._step, description=safe(message))
            return
        self._flush_counts()
        print(f"audit: {safe(message)}", file=self._out, flush=True)

    def found(self, kind: str, count: int = 1) -> None:
        self.found_count[kind] = self.found_count.get(kind, 0) + count
        self._show(kind)

    def done(self, kind: str, count: int = 1) -> None:
        self.done_count[kind] = self.done_count.get(kind, 0) + count
        # A source may report work done that it never announced (e.g. tags counted as read): the total
        # is never below what was done.
        self.found_count[kind] = max(self.found_count.get(kind, 0), self.done_count[kind])
        self._show(kind)

    def counts(self) -> str:
        """`12/40 repositories, 3400/9000 tags`: the kinds seen so far."""
        return ", ".join(f"{self.done_count[k]}/{self.found_count[k]} {k}" for k in self.found_count
                         if self.found_count[k])

    def _show(self, kind: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            if kind not in self._tasks:
                self._tasks[kind] = self._bar.add_task(f"{kind} read", total=0)
            self._bar.update(self._tasks[kind], total=self.found_count[kind], completed=self.done_count[kind])
            return
        self._changed = True
        if self.clock() - self._last_line >= self.interval:
            self._flush_counts()

    def _flush_counts(self) -> None:
        if self._changed and not self.quiet and self._bar is None:
            print(f"audit: read {self.counts()}", file=self._out, flush=True)
        self._changed = False
        self._last_line = self.clock()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            if kind is None:
                self._bar.update(self._step, description="done")
            self._bar.stop()
        else:
            self._flush_counts()
