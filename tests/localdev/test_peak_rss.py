"""The launcher measures the command's own peak memory, not the peak its caller carried across fork and exec."""

from __future__ import annotations

import sys

import pytest

from localdev.peak_rss import NoUsage, run_measured

MIB = 1024


def test_a_small_command_under_a_large_caller_reads_small() -> None:
    ballast = bytearray(256 * 1024 * 1024)
    ballast[::4096] = b"\1" * len(range(0, len(ballast), 4096))  # touch every page: resident, not just mapped
    usage = run_measured([sys.executable, "-c", "pass"])
    assert usage.returncode == 0
    assert usage.peak_rss_kib < 128 * MIB, f"{usage.peak_rss_kib // MIB} MiB: the caller's 256 MiB leaked in"
    del ballast


def test_what_the_command_itself_holds_is_counted() -> None:
    hold = "b = bytearray(192 * 1024 * 1024); b[::4096] = b'1' * (len(b) // 4096)"
    usage = run_measured([sys.executable, "-c", hold])
    assert usage.returncode == 0
    assert usage.peak_rss_kib >= 192 * MIB


def test_the_exit_code_and_cpu_are_the_commands() -> None:
    usage = run_measured([sys.executable, "-c", "import sys; sum(range(10**6)); sys.exit(5)"])
    assert usage.returncode == 5
    assert usage.user + usage.sys > 0
    assert usage.wall > 0


def test_a_command_past_its_timeout_is_killed_with_its_launcher() -> None:
    with pytest.raises(NoUsage, match="did not finish within"):
        run_measured([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
