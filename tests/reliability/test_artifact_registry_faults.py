"""Faults between the real google-cloud-artifact-registry client and the local stand-in.

The proxy sits between `--artifact-registry-endpoint` and ArtifactRegistryFake. Transient faults
must not change what is read; persistent ones must name the repository and what was not read;
retries are bounded by the retry deadline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import run_cli

from audit.sources.artifact_registry import ArtifactRegistryScan, scan_artifact_registry
from localdev import demo_estate
from localdev.artifact_registry import ArtifactRegistryFake
from localdev.fault_proxy import (
    Fault,
    FaultProxy,
    Rule,
    google_error,
    replace_body,
    reset,
    reset_mid_body,
    stall,
    truncated_json,
    wrong_content_type,
)

PROJECT, LOCATION = demo_estate.PROJECT, demo_estate.LOCATION
REPO = f"projects/{PROJECT}/locations/{LOCATION}/repositories"
RISKY, HARDENED = f"{REPO}/models-risky", f"{REPO}/models-hardened"


@pytest.fixture(scope="module")
def ar_fake() -> Iterator[ArtifactRegistryFake]:
    with ArtifactRegistryFake() as fake:
        demo_estate.seed_artifact_registry(fake.estate)
        yield fake


@pytest.fixture
def ar_proxy(ar_fake: ArtifactRegistryFake) -> Iterator[FaultProxy]:
    with FaultProxy(ar_fake.endpoint) as proxy:
        yield proxy


def _scan(proxy: FaultProxy, *, timeout: float = 1.0, retry_deadline: float = 5.0) -> ArtifactRegistryScan:
    return scan_artifact_registry(PROJECT, LOCATION, endpoint=proxy.url, timeout=timeout,
                                  retry_deadline=retry_deadline)


def _shape(scan: ArtifactRegistryScan) -> tuple:
    """Everything read, in a comparable form."""
    state = scan.state
    return (sorted(r.ref.name for r in state.repositories), sorted(map(repr, state.grants)),
            sorted((i.package, i.digest, i.tags) for i in state.images), sorted(map(repr, state.iam_complete_targets)))


@pytest.fixture(scope="module")
def ar_baseline(ar_fake: ArtifactRegistryFake) -> tuple:
    with FaultProxy(ar_fake.endpoint) as proxy:
        scan = _scan(proxy)
    assert scan.complete and scan.repository_count == 2 and scan.image_count == 5
    return _shape(scan)


TRANSIENT: list = [
    pytest.param(google_error(503), id="503"),
    pytest.param(google_error(429, retry_after=1), id="429-retry-after"),
    pytest.param(reset(), id="reset-before-response"),
    pytest.param(google_error(500), id="500"),
    pytest.param(google_error(502), id="502"),
    pytest.param(reset_mid_body(), id="reset-mid-body"),
    pytest.param(stall(5), id="stall-past-timeout"),
]


@pytest.mark.parametrize("fault", TRANSIENT)
@pytest.mark.parametrize("call", ["/repositories?", ":getIamPolicy", "/dockerImages"])
def test_transient_faults_do_not_change_what_is_read(fault: Fault, call: str, ar_proxy: FaultProxy,
                                                     ar_baseline: tuple) -> None:
    ar_proxy.plan = [Rule(fault, path=call, times=1, per_url=True)]
    scan = _scan(ar_proxy)
    assert [str(e) for e in scan.errors] == []
    assert _shape(scan) == ar_baseline
    assert any(r.fault for r in ar_proxy.requests)


PERSISTENT: list = [
    pytest.param(Rule(google_error(403, "denied"), path="models-risky:getIamPolicy"), RISKY, "IAM policy not read",
                 id="iam-403"),
    pytest.param(Rule(truncated_json(), path="models-risky:getIamPolicy"), RISKY, "IAM policy not read",
                 id="iam-truncated-json"),
    pytest.param(Rule(replace_body(b'{"bindings": "everyone"}'), path="models-risky:getIamPolicy"), RISKY,
                 "IAM policy not read", id="iam-bindings-not-a-list"),
    pytest.param(Rule(replace_body(b'{"bindings": [{"role": 7, "members": {"a": 1}}]}'),
                      path="models-risky:getIamPolicy"), RISKY, "IAM policy not read", id="iam-wrong-types"),
    pytest.param(Rule(replace_body(b'[]'), path="models-hardened:getIamPolicy"), HARDENED, "IAM policy not read",
                 id="iam-json-array"),
    pytest.param(Rule(replace_body(b'"public"'), path="models-hardened:getIamPolicy"), HARDENED,
                 "IAM policy not read", id="iam-json-string"),
    pytest.param(Rule(replace_body(b"<html>oops</html>", "text/html"), path="models-hardened/dockerImages"),
                 HARDENED, "docker images not read", id="images-html"),
    pytest.param(Rule(replace_body(b'{"dockerImages": [{"name": 5}]}'), path="models-hardened/dockerImages"),
                 HARDENED, "docker images not read", id="images-wrong-types"),
    pytest.param(Rule(replace_body(b'{"repositories": [{"name": "x", "format": "NOPE"}]', ),
                      path="/repositories\\?"), f"projects/{PROJECT}/locations/{LOCATION}",
                 "repositories not listed", id="list-truncated"),
]


@pytest.mark.parametrize(("rule", "target", "what"), PERSISTENT)
def test_persistent_bad_responses_are_recorded(rule: Rule, target: str, what: str, ar_proxy: FaultProxy) -> None:
    ar_proxy.plan = [rule]
    scan = _scan(ar_proxy)
    assert not scan.complete
    assert any(e.target == target and what in e.message for e in scan.errors), scan.errors


@pytest.mark.parametrize("fault", [google_error(503), google_error(429, retry_after=0), reset()],
                         ids=["503", "429", "reset"])
def test_persistent_transient_looking_faults_are_bounded_by_the_deadline(fault: Fault, ar_proxy: FaultProxy) -> None:
    """The client retries 429/503/connection errors until `retry_deadline`, then names what it did not read."""
    ar_proxy.plan = [Rule(fault, path="models-risky:getIamPolicy")]
    deadline = 1.5
    scan = _scan(ar_proxy, retry_deadline=deadline)
    assert any(e.target == RISKY and "IAM policy not read" in e.message for e in scan.errors), scan.errors
    attempts = ar_proxy.matching("models-risky:getIamPolicy")
    # It retried, and it stopped at the deadline. The waits between attempts are google-api-core's own
    # (jittered, from its own clock): this checks that the deadline ends the retries, not how long they took.
    assert 2 <= len(attempts) <= 40, len(attempts)
    # The rest of the estate was still read.
    assert scan.repository_count == 2 and scan.image_count == 5


def test_cli_persistent_fault_exits_3_naming_the_repository(ar_proxy: FaultProxy, tmp_path: Path) -> None:
    ar_proxy.plan = [Rule(truncated_json(), path="models-risky:getIamPolicy")]
    run = run_cli(["scan", "--project", PROJECT, "--location", LOCATION, "--artifact-registry-endpoint", ar_proxy.url,
                   "--timeout", "1", "--quiet"], tmp_path)
    run.assert_clean_exit()
    report = run.report
    assert run.rc == 3 and report["complete"] is False and report["summary"]["status"] == "incomplete"
    assert any(e["target"] == RISKY and "IAM policy not read" in e["message"] for e in report["errors"])


def test_cli_timeout_applies_to_artifact_registry(ar_proxy: FaultProxy, tmp_path: Path) -> None:
    """`--timeout 1` is the per-request timeout for every source: a stalled Artifact Registry
    call must not hang the scan for the client's 30 s default."""
    ar_proxy.plan = [Rule(stall(600), path="models-risky:getIamPolicy", times=1)]
    run = run_cli(["scan", "--project", PROJECT, "--location", LOCATION, "--artifact-registry-endpoint", ar_proxy.url,
                   "--timeout", "1", "--quiet"], tmp_path)
    run.assert_clean_exit()
    # The stalled call was cut by the 1 s timeout and asked again (with the client's default it would still
    # be waiting): two attempts, and the scan complete, with the seeded findings.
    assert len(ar_proxy.matching("models-risky:getIamPolicy")) == 2
    assert run.rc == 1


def test_wrong_content_type_on_a_good_body_is_tolerated(ar_proxy: FaultProxy, ar_baseline: tuple) -> None:
    """The REST client parses by body, not by Content-Type: a mislabelled but valid answer reads the same."""
    ar_proxy.plan = [Rule(wrong_content_type("text/plain"), path=":getIamPolicy")]
    scan = _scan(ar_proxy)
    assert scan.complete and _shape(scan) == ar_baseline
