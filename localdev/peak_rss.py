"""Run one command and measure its own peak memory, CPU and wall time.

Linux carries a process's peak RSS across fork and exec: `ru_maxrss` of a child spawned straight from a
400 MB test runner reads 400 MB however little the child itself uses. So the command is spawned from this
small launcher instead (a fresh interpreter that imports only the standard library); the launcher waits for
it with `wait4` and writes what it measured as JSON to a file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class Usage:
    """What one run of a command cost, measured by the launcher."""

    returncode: int
    wall: float
    user: float
    sys: float
    peak_rss_kib: int


class NoUsage(RuntimeError):
    """The launcher did not report (killed, or timed out)."""


def run_measured(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 stdout: IO[bytes] | IO[str] | int | None = None, stderr: IO[bytes] | IO[str] | int | None = None,
                 timeout: float | None = None) -> Usage:
    """Run `argv` to its end under the launcher; stdin is closed. Past `timeout` seconds the whole process
    group is killed and `NoUsage` raised."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "usage.json"
        proc = subprocess.Popen([sys.executable, "-I", str(Path(__file__).resolve()), str(report), *argv],
                                env=dict(env) if env is not None else None, cwd=cwd, stdout=stdout,
                                stderr=stderr, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise NoUsage(f"{argv[0]} did not finish within {timeout} s") from None
        if not report.is_file():
            raise NoUsage(f"the launcher exited {proc.returncode} without measuring {argv[0]}")
        return Usage(**json.loads(report.read_text()))


def _launch(report: str, argv: list[str]) -> int:
    started = time.perf_counter()
    child = subprocess.Popen(argv)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    Path(report).write_text(json.dumps({
        "returncode": os.waitstatus_to_exitcode(status), "wall": wall, "user": usage.ru_utime,
        "sys": usage.ru_stime, "peak_rss_kib": usage.ru_maxrss}))  # KiB on Linux
    return 0


if __name__ == "__main__":
    sys.exit(_launch(sys.argv[1], sys.argv[2:]))
