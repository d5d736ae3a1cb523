"""Progress output: plain lines off a terminal, nothing with --quiet."""

from __future__ import annotations

import pytest

from audit.progress import ScanProgress


def test_plain_lines_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with ScanProgress(2, terminal=False) as progress:
        progress("reading OCI registry http://127.0.0.1:5000")
        progress("judging")
    assert capsys.readouterr().err.splitlines() == [
        "audit: reading OCI registry http://127.0.0.1:5000", "audit: judging"]


def test_quiet_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with ScanProgress(2, quiet=True, terminal=True) as progress:
        progress("judging")
    assert capsys.readouterr() == ("", "")
