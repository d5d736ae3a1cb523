"""Faults between the audit and a real OCI registry, injected by a loopback proxy.

Transient faults (the registry recovers within the retry budget) must not change the result:
the scan completes and its findings equal a fault-free scan's. Persistent faults must make the
scan say what it could not read: exit 3, `complete: false`, the unread parts named in `errors`,
summary status `incomplete`. Retries are bounded and back off with jitter. The audit runs as a
real process (`python -m audit scan --timeout 1`) so exit codes and "no traceback" are tested too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from pathlib import Path

import pytest
from reliability_support import CliRun, run_cli

from audit.sources.oci import scan_oci_registry_async
from audit.sources.oci.client import Pacing
from localdev.fault_proxy import (
    Fault,
    FaultProxy,
    Rule,
    malformed_json,
    replace_body,
    reset,
    reset_mid_body,
    stall,
    status,
    truncated_json,
    wrong_content_type,
)

MAX_RETRIES = 4  # scan_oci_registry's default, which `python -m audit scan` uses


def _scan(proxy: FaultProxy, out: Path, *extra: str) -> CliRun:
    run = run_cli(["scan", "--registry", proxy.url, "--timeout", "1", "--quiet", *extra], out)
    run.assert_clean_exit()
    return run


@pytest.fixture(scope="module")
def baseline(small_registry: tuple, tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str, str]]:
    """The findings of a fault-free scan through a proxy (resource names carry the registry host,
    so they are compared with the proxy's host replaced)."""
    with FaultProxy(small_registry[0].url) as proxy:
        run = _scan(proxy, tmp_path_factory.mktemp("baseline"))
        assert run.rc == 1 and run.report["complete"] is True, run.stderr
        findings = {tuple(part.replace(proxy.host, "REGISTRY") for part in f) for f in run.findings()}
    assert findings  # the small estate has an image tagged only `dev`
    return findings  # type: ignore[return-value]


TRANSIENT: dict[str, list[Rule]] = {
    # Every catalog, tags/list and manifest URL fails the first time(s) it is asked for.
    "503-everywhere-twice": [Rule(status(503), times=2, per_url=True)],
    "500-then-502": [Rule(status(500), path="/tags/list", times=1, per_url=True),
                     Rule(status(502), path="/manifests/", times=1, per_url=True)],
    "429-retry-after": [Rule(status(429, retry_after=1), path="/_catalog", times=1),
                        Rule(status(429, retry_after=0), path="/manifests/", times=1, per_url=True)],
    "reset-before-response": [Rule(reset(), times=1, per_url=True)],
    "reset-mid-body": [Rule(reset_mid_body(), path="/(_catalog|tags/list)", method="GET", times=1,
                            per_url=True)],
    "stall-past-timeout": [Rule(stall(5), path="/_catalog", times=1),
                           Rule(stall(5), path="/models/llm/manifests/v1.0.0", times=1)],
    "mixed": [Rule(reset_mid_body(), path="/_catalog", times=1),
              Rule(status(503), path="/models/llm/tags/list", times=3),
              Rule(stall(5), path="/team/ranker/tags/list", times=1),
              Rule(reset(), path="/models/vision/manifests/", times=2)],
}


@pytest.mark.parametrize("plan", sorted(TRANSIENT))
def test_transient_faults_do_not_change_the_findings(plan: str, registry_proxy: FaultProxy,
                                                    baseline: set[tuple[str, str, str]], tmp_path: Path) -> None:
    registry_proxy.plan = TRANSIENT[plan]
    run = _scan(registry_proxy, tmp_path / "faulty")
    report = run.report
    assert report["complete"] is True and report["errors"] == [], report["errors"]
    assert run.rc == 1
    assert {tuple(part.replace(registry_proxy.host, "REGISTRY") for part in f) for f in run.findings()} == baseline
    injected = [r for r in registry_proxy.requests if r.fault]
    assert injected, "the plan injected nothing: the test proves nothing"
    assert run.stderr == ""


def _assert_incomplete(run: CliRun, *unread: str) -> dict:
    report = run.report
    assert run.rc == 3, (run.rc, run.stdout, run.stderr)
    assert report["complete"] is False
    assert report["summary"]["status"] == "incomplete"
    assert "compliant:" not in run.stdout.replace("non-compliant:", "")
    targets = {e["target"] for e in report["errors"]}
    for name in unread:
        assert name in targets, (name, report["errors"])
    return report


PERSISTENT: dict[str, tuple[Rule, str]] = {
    # rule, the error target (relative to the registry host) that must name what was not read
    "catalog-503": (Rule(status(503), path="/_catalog"), "_catalog"),
    "catalog-429": (Rule(status(429, retry_after=0), path="/_catalog"), "_catalog"),
    "tags-reset": (Rule(reset(), path="/models/vision/tags/list"), "models/vision"),
    "tags-reset-mid-body": (Rule(reset_mid_body(), path="/team/ranker/tags/list"), "team/ranker"),
    "tags-truncated-json": (Rule(truncated_json(), path="/models/llm/tags/list"), "models/llm"),
    "tags-malformed-json": (Rule(malformed_json(b'{"name": "x", "tags": ["v1", '), path="/models/llm/tags/list"),
                            "models/llm"),
    "tags-json-not-object": (Rule(replace_body(b'["v1.0.0"]'), path="/models/llm/tags/list"), "models/llm"),
    "tags-wrong-content-type": (Rule(wrong_content_type(), path="/team/ranker/tags/list"), "team/ranker"),
    "catalog-html": (Rule(replace_body(b"<html>maintenance</html>", "text/html"), path="/_catalog"), "_catalog"),
    "manifest-500": (Rule(status(500), path="/models/vision/manifests/dev"), "models/vision:dev"),
    "manifest-wrong-content-type": (Rule(wrong_content_type("text/plain"), path="/models/vision/manifests/dev"),
                                    "models/vision:dev"),
    "manifest-no-digest": (Rule(replace_body(b"", "application/vnd.oci.image.manifest.v1+json"),
                                path="/models/vision/manifests/dev"), "models/vision:dev"),
}


@pytest.mark.parametrize("case", sorted(PERSISTENT))
def test_persistent_faults_make_the_scan_incomplete(case: str, registry_proxy: FaultProxy, tmp_path: Path) -> None:
    rule, unread = PERSISTENT[case]
    registry_proxy.plan = [rule]
    run = _scan(registry_proxy, tmp_path)
    report = _assert_incomplete(run, f"{registry_proxy.host}/{unread}")
    if unread == "_catalog":
        # Nothing was listed: no finding may suggest the registry was judged.
        assert report["inventory"]["images"] == 0
    assert all(line.startswith("not read: ") for line in run.stderr.splitlines()), run.stderr
    assert f"{report['summary']['errors']} read error(s)" in run.stdout


def test_persistent_stall_is_bounded_and_named(registry_proxy: FaultProxy, tmp_path: Path) -> None:
    """A tag whose manifest never answers: each attempt times out after --timeout, the number of
    attempts is bounded, the rest of the registry is read, the tag is named as unread. (The stall outlasts
    the run's guard many times over: had --timeout not cut each attempt, the scan would never end in time.
    The exact waits between attempts are checked with an injected clock below.)"""
    registry_proxy.plan = [Rule(stall(600), path="/models/llm/manifests/v1.0.0")]
    run = _scan(registry_proxy, tmp_path)
    _assert_incomplete(run, f"{registry_proxy.host}/models/llm:v1.0.0")
    attempts = registry_proxy.matching("/models/llm/manifests/v1.0.0")
    assert len(attempts) == MAX_RETRIES + 1
    # Everything else was read.
    assert run.report["inventory"]["images"] >= 3


@pytest.mark.parametrize("fault", [status(503), status(500), reset(), status(429, retry_after=0)],
                         ids=["503", "500", "reset", "429"])
def test_retries_per_url_are_bounded_by_the_configured_max(fault: Fault, registry_proxy: FaultProxy,
                                                          tmp_path: Path) -> None:
    registry_proxy.plan = [Rule(fault, path="/tags/list")]
    run = _scan(registry_proxy, tmp_path)
    _assert_incomplete(run, *(f"{registry_proxy.host}/{r}" for r in ("models/llm", "models/vision", "team/ranker")))
    per_url: dict[str, int] = {}
    for request in registry_proxy.matching("/tags/list"):
        per_url[request.path] = per_url.get(request.path, 0) + 1
    assert len(per_url) == 3, per_url
    if fault.kind == "reset":
        # The wire replays a request once, uncounted, when a *reused* keep-alive connection turns out
        # closed before any response byte (the usual stale-connection rule); so at most one extra
        # request per counted attempt.
        assert all(MAX_RETRIES + 1 <= n <= 2 * (MAX_RETRIES + 1) for n in per_url.values()), per_url
    else:
        assert all(n == MAX_RETRIES + 1 for n in per_url.values()), per_url


class RecordedPacing:
    """A pacing whose sleeps return at once and are recorded; its jitter comes from a seeded generator."""

    def __init__(self, seed: int) -> None:
        self.waits: list[float] = []
        self.pacing = Pacing(sleep=self._sleep, random=random.Random(seed))

    async def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def _retry_waits(proxy: FaultProxy, max_retries: int, backoff_base: float, seed: int) -> list[float]:
    """Scan one repository whose tags/list always answers 503; the waits between its attempts."""
    proxy.clear()
    recorded = RecordedPacing(seed)
    inventory = asyncio.run(scan_oci_registry_async(
        proxy.url, repositories=["models/llm"], max_retries=max_retries, backoff_base=backoff_base, timeout=2,
        pacing=recorded.pacing))
    assert not inventory.complete
    assert len(proxy.matching("/models/llm/tags/list")) == max_retries + 1
    return recorded.waits


def test_backoff_grows_and_is_jittered(registry_proxy: FaultProxy) -> None:
    registry_proxy.plan = [Rule(status(503), path="/tags/list")]
    base = 0.05
    first = _retry_waits(registry_proxy, 5, base, seed=1)
    # Exactly the jittered exponential schedule: half the nominal wait plus a uniform draw of the other half.
    draws = random.Random(1)
    assert first == [base * 2 ** n / 2 + draws.uniform(0, base * 2 ** n / 2) for n in range(5)]
    for attempt, wait in enumerate(first):
        assert base * 2 ** attempt / 2 <= wait <= base * 2 ** attempt
    # Growing: the ranges of consecutive waits touch and never overlap.
    assert all(later >= earlier for earlier, later in itertools.pairwise(first)), first
    # Jitter: another random source waits differently.
    assert _retry_waits(registry_proxy, 5, base, seed=2) != first


def test_backoff_is_capped(registry_proxy: FaultProxy) -> None:
    registry_proxy.plan = [Rule(status(503), path="/tags/list")]
    waits = _retry_waits(registry_proxy, 9, 1.0, seed=3)
    assert max(waits) <= 10.0 and waits[-1] >= 5.0  # backoff_cap: the nominal wait stops at 10 s


def test_retry_after_is_honoured(registry_proxy: FaultProxy) -> None:
    registry_proxy.plan = [Rule(status(429, retry_after=7), path="/tags/list", times=1)]
    recorded = RecordedPacing(seed=1)
    inventory = asyncio.run(scan_oci_registry_async(registry_proxy.url, repositories=["models/llm"],
                                                    backoff_base=0.01, timeout=2, pacing=recorded.pacing))
    assert inventory.complete
    assert len(registry_proxy.matching("/models/llm/tags/list")) == 2
    assert recorded.waits == [7.0]  # the registry's own wait, not the backoff's


def test_a_tag_that_could_not_be_read_is_neither_deleted_nor_forgotten(registry_proxy: FaultProxy,
                                                                         tmp_path: Path) -> None:
    """One tag's manifest fails in the second scan: its absence proves nothing, so no version-deleted, and the
    third scan still compares it with the digest the first one recorded."""
    history = tmp_path / "history"
    first = _scan(registry_proxy, tmp_path / "1", "--history", str(history))
    assert first.report["complete"] is True
    # Whichever request reads the tag: a HEAD, or a GET when the scan reads released images' metadata.
    registry_proxy.plan = [Rule(status(404), path="/models/llm/manifests/v1.0.0$")]
    second = _scan(registry_proxy, tmp_path / "2", "--history", str(history))
    assert second.rc == 3 and second.report["complete"] is False
    assert not [f for f in second.report["findings"] if f["rule_id"] == "version-deleted"], second.report["findings"]
    registry_proxy.plan = []
    third = _scan(registry_proxy, tmp_path / "3", "--history", str(history))
    assert third.report["complete"] is True
    assert not [f for f in third.report["findings"] if f["rule_id"] in ("version-deleted", "version-tag-moved")]
    snapshot = json.loads(sorted((history / "snapshots").glob("*.json"))[-1].read_text())
    assert any("v1.0.0" in image["tags"] and image["package"] == "models/llm" for image in snapshot["images"])
