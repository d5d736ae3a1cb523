"""Faults between the audit and the GCS emulator (Container Registry buckets), through the proxy
(STORAGE_EMULATOR_HOST points at it). The storage client retries transient faults itself; the
audit must pass its `--timeout` down so a stall costs seconds, not the client's 60 s default,
and must record a malformed IAM policy or ACL as unread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import CliRun, audit_env, run_cli

from localdev import demo_estate
from localdev.fault_proxy import FaultProxy, Rule, replace_body, reset, stall, status, truncated_json
from localdev.gcs_emulator import GcsEmulator


@pytest.fixture(scope="module")
def gcs_estate() -> Iterator[tuple[GcsEmulator, str, str]]:
    with GcsEmulator(project=demo_estate.PROJECT) as gcs:
        risky, hardened = demo_estate.seed_gcs(gcs)
        yield gcs, risky, hardened


@pytest.fixture
def gcs_proxy(gcs_estate: tuple[GcsEmulator, str, str]) -> Iterator[FaultProxy]:
    with FaultProxy(gcs_estate[0].url) as proxy:
        yield proxy


def _scan(proxy: FaultProxy, bucket: str, out: Path) -> CliRun:
    run = run_cli(["scan", "--gcr-bucket", bucket, "--timeout", "1", "--quiet"], out,
                  env=audit_env({"STORAGE_EMULATOR_HOST": proxy.url}))
    run.assert_clean_exit()
    return run


@pytest.mark.parametrize("fault", [stall(600), status(503), reset()], ids=["stall", "503", "reset"])
def test_transient_fault_on_bucket_iam_is_retried_quickly(fault, gcs_estate, gcs_proxy: FaultProxy,
                                                          tmp_path: Path) -> None:
    risky = gcs_estate[1]
    baseline = _scan(gcs_proxy, risky, tmp_path / "baseline")
    assert baseline.rc == 1 and baseline.report["complete"] is True
    gcs_proxy.plan = [Rule(fault, path=f"/b/{risky}/iam", times=1)]
    gcs_proxy.clear()
    run = _scan(gcs_proxy, risky, tmp_path / "faulty")
    # Asked again after the fault (a stall was cut by --timeout 1, not waited out: it lasts past the run's guard).
    assert len(gcs_proxy.matching(f"/b/{risky}/iam")) == 2
    assert run.report["complete"] is True, run.report["errors"]
    assert run.findings() == baseline.findings()


@pytest.mark.parametrize(("rule_path", "body", "part"), [
    ("/iam", b'{"bindings": [{"role": 5, "members": ["allUsers"]}]}', "iam"),
    ("/iam", None, "iam"),
    ("/acl", b'{"items": [{"role": "READER"}]}', "acl"),
    ("/defaultObjectAcl", b"<html/>", "defaultObjectAcl"),
], ids=["iam-role-not-text", "iam-truncated", "acl-no-entity", "default-acl-html"])
def test_malformed_bucket_policy_is_recorded_not_raised(rule_path: str, body: bytes | None, part: str,
                                                        gcs_estate, gcs_proxy: FaultProxy, tmp_path: Path) -> None:
    risky = gcs_estate[1]
    fault = truncated_json() if body is None else replace_body(body, "text/html" if body.startswith(b"<") else
                                                                "application/json")
    gcs_proxy.plan = [Rule(fault, path=f"/b/{risky}{rule_path}\\?")]
    run = _scan(gcs_proxy, risky, tmp_path)
    report = run.report
    assert run.rc == 3 and report["complete"] is False and report["summary"]["status"] == "incomplete"
    assert f"bucket:{risky}/{part}" in {e["target"] for e in report["errors"]}, report["errors"]
