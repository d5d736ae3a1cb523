"""Progress that moves with the work: repositories and tags as the sources read them (a real registry and the
Artifact Registry stand-in), plain lines off a terminal at most every `interval` seconds (an injected clock),
nothing with --quiet."""

from __future__ import annotations

import io
from collections import Counter

import pytest

from audit.progress import ScanProgress, reporting, work
from audit.sources.artifact_registry import scan_artifact_registry
from audit.sources.oci.scanner import scan_oci_registry
from localdev import demo_estate
from localdev.artifact_registry import ArtifactRegistryFake
from localdev.hostile_registry import HostileRegistry, plain


class Recorder:
    """A `Work` that keeps every report, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, int]] = []

    def found(self, kind: str, count: int = 1) -> None:
        self.events.append(("found", kind, count))

    def done(self, kind: str, count: int = 1) -> None:
        self.events.append(("done", kind, count))

    def total(self, event: str, kind: str) -> int:
        return sum(n for e, k, n in self.events if (e, k) == (event, kind))


def test_an_oci_scan_reports_each_repository_and_tag() -> None:
    repositories = [f"models/m{i}" for i in range(6)]
    with HostileRegistry(plain(repositories, tags=("v1", "v2", "v3"))) as registry:
        recorder = Recorder()
        with reporting(recorder):
            inventory = scan_oci_registry(registry.url, timeout=5)
    assert inventory.complete
    assert recorder.total("found", "repositories") == recorder.total("done", "repositories") == 6
    assert recorder.total("found", "tags") == recorder.total("done", "tags") == 18
    # Work is announced before it is finished, one repository and one tag at a time.
    running: Counter[str] = Counter()
    for event, kind, count in recorder.events:
        running[(event, kind)] += count  # type: ignore[index]
        assert running[("done", kind)] <= running[("found", kind)]  # type: ignore[index]
    assert Counter((e, k) for e, k, _ in recorder.events)[("done", "tags")] == 18


def test_an_artifact_registry_scan_reports_each_repository() -> None:
    with ArtifactRegistryFake() as ar:
        demo_estate.seed_artifact_registry(ar.estate)
        recorder = Recorder()
        with reporting(recorder):
            scan = scan_artifact_registry(demo_estate.PROJECT, demo_estate.LOCATION, endpoint=ar.endpoint)
    assert recorder.total("found", "repositories") == recorder.total("done", "repositories") == scan.repository_count
    assert recorder.total("done", "tags") == sum(len(i.tags) for i in scan.state.images) > 0


def test_nothing_reported_outside_a_scan() -> None:
    work().found("repositories", 3)  # no display installed: a no-op, never an error


def test_plain_lines_at_most_every_interval() -> None:
    now = [0.0]
    out = io.StringIO()
    with ScanProgress(terminal=False, interval=10.0, clock=lambda: now[0], out=out) as progress, reporting(progress):
        progress("reading OCI registry http://127.0.0.1:5000")
        work().found("repositories", 4)
        work().done("repositories")
        now[0] = 5.0
        work().done("repositories")  # within the interval: nothing printed yet
        now[0] = 10.5
        work().found("tags", 20)  # past it: one line with the counts so far
        work().done("tags", 7)
        now[0] = 11.0
        work().done("repositories", 2)
        progress("judging")  # a new step prints the counts first
    assert out.getvalue().splitlines() == [
        "audit: reading OCI registry http://127.0.0.1:5000",
        "audit: read 2/4 repositories, 0/20 tags",
        "audit: read 4/4 repositories, 7/20 tags",
        "audit: judging",
    ]


def test_step_names_are_escaped() -> None:
    out = io.StringIO()
    with ScanProgress(terminal=False, out=out) as progress:
        progress("reading OCI registry https://evil\n::error::x")
    assert out.getvalue() == "audit: reading OCI registry https://evil\\n::error::x\n"


def test_terminal_display_counts_the_work() -> None:
    out = io.StringIO()
    with ScanProgress(terminal=True, out=out) as progress, reporting(progress):
        progress("reading")
        work().found("repositories", 2)
        work().done("repositories", 2)
        work().found("tags", 5)
        work().done("tags", 5)
    assert progress.counts() == "2/2 repositories, 5/5 tags"
    assert "repositories read" in out.getvalue() and "tags read" in out.getvalue()


def test_quiet_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with ScanProgress(quiet=True, terminal=True) as progress, reporting(progress):
        progress("judging")
        work().found("tags", 3)
    assert capsys.readouterr() == ("", "")
