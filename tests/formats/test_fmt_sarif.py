"""SARIF: valid against the SARIF 2.1.0 schema and shaped the way GitHub code scanning needs it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from format_fixtures import FORMULA_RESOURCE, HOSTILE_MESSAGE
from registry_guard.catalogue.rule import all_rules

from audit.formats import sarif
from audit.formats.options import RenderOptions
from audit.report import Report, ReportFinding

# SchemaStore's copy of the SARIF 2.1.0 schema, vendored with its licence note (schemas/README.md).
SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0-rtm.5.json"


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _render(report: Report, max_results: int = sarif.MAX_RESULTS) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(sarif.render(report, max_results))
    return loaded


RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}


def _by_severity(findings: Sequence[ReportFinding]) -> list[ReportFinding]:
    """The order the results must have: most severe first, unwaived first, then report order."""
    return sorted(findings, key=lambda f: (-RANK[f.severity], f.waived))


def test_valid_against_the_sarif_schema(sarif_validator: Any, report: Report, incomplete: Report,
                                        empty: Report) -> None:
    for r in (report, incomplete, empty):
        errors = sorted(sarif_validator.iter_errors(_render(r)), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_demo_report_is_valid_sarif(sarif_validator: Any, demo: Report) -> None:
    document = _render(demo)
    assert not list(sarif_validator.iter_errors(document))
    assert len(document["runs"][0]["results"]) == len(demo.findings)


def test_github_required_shape(report: Report) -> None:
    doc = _render(report)
    assert doc["version"] == "2.1.0" and doc["$schema"].startswith("https://")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "model-registry-guard" and driver["version"] and driver["informationUri"]
    assert [r["id"] for r in driver["rules"]] == list(all_rules())
    for rule in driver["rules"]:
        catalogue = all_rules()[rule["id"]]
        assert rule["shortDescription"]["text"] == catalogue.title
        assert rule["fullDescription"]["text"] == catalogue.description
        assert catalogue.remediation[0] in rule["help"]["markdown"]
        assert catalogue.remediation[0] in rule["help"]["text"]
        for ref in catalogue.frameworks:
            assert ref.reference in rule["help"]["markdown"]
        assert rule["helpUri"] == catalogue.url
        expected = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}[catalogue.severity]
        assert rule["properties"]["security-severity"] == expected
        assert "security" in rule["properties"]["tags"]

    assert len(run["results"]) == len(report.findings)
    for result, finding in zip(run["results"], _by_severity(report.findings), strict=True):
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"] == finding.rule_id
        assert result["level"] == {"critical": "error", "high": "error", "medium": "warning",
                                   "low": "note"}[finding.severity]
        assert finding.message in result["message"]["text"]
        assert result["partialFingerprints"] == {"registryGuard/v1": finding.fingerprint}
        assert len(result["locations"]) >= 1
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] and physical["region"]["startLine"] >= 1
        assert result["locations"][0]["logicalLocations"][0]["name"] == finding.resource


def test_locations(report: Report) -> None:
    results = {r["message"]["text"].split(" (resource:")[0]: r for r in _render(report)["runs"][0]["results"]}
    declared = next(r for m, r in results.items() if m.startswith("serviceAccount:ci@"))
    assert declared["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "__main__.py"}, "region": {"startLine": 42}}
    drift = next(r for m, r in results.items() if m.startswith("labels differ"))
    assert drift["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "__main__.py"}, "region": {"startLine": 7, "startColumn": 3}}
    live = results[HOSTILE_MESSAGE]
    assert live["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "Pulumi.yaml"}, "region": {"startLine": 1}}
    odd = next(r for r in results.values() if r["properties"]["resource"] == FORMULA_RESOURCE)
    assert odd["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == FORMULA_RESOURCE


def test_waived_findings_are_suppressed(report: Report) -> None:
    results = _render(report)["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == sum(1 for f in report.findings if f.waived) == 1
    (suppression,) = suppressed[0]["suppressions"]
    assert suppression["kind"] == "external"
    assert "SEC-42" in suppression["justification"]
    assert {r.get("baselineState") for r in results} == {"new", "unchanged", None}


def test_incomplete_scan_is_not_a_successful_execution(report: Report, incomplete: Report) -> None:
    assert _render(report)["runs"][0]["invocations"][0]["executionSuccessful"] is True
    invocation = _render(incomplete)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert len(notes) == len(incomplete.errors)
    assert all(n["level"] == "error" for n in notes)
    assert "403 Forbidden" in notes[0]["message"]["text"]


def test_fingerprints_are_stable_across_renders(report: Report) -> None:
    first = [r["partialFingerprints"] for r in _render(report)["runs"][0]["results"]]
    assert first == [r["partialFingerprints"] for r in _render(report)["runs"][0]["results"]]


def _many(report: Report, copies: int) -> Report:
    """`copies` of every finding (distinct resources), in report order: severities stay interleaved."""
    findings = tuple(replace(f, resource=f"{f.resource}#{i}") for i in range(copies) for f in report.findings)
    return replace(report, findings=findings)


def test_results_are_ordered_most_severe_first(report: Report) -> None:
    assert [f.severity for f in report.findings] != [f.severity for f in _by_severity(report.findings)]
    results = _render(report)["runs"][0]["results"]
    assert [RANK[r["properties"]["severity"]] for r in results] == sorted(
        (RANK[f.severity] for f in report.findings), reverse=True)


def test_over_the_cap_keeps_the_most_severe_and_says_so(sarif_validator: Any, report: Report) -> None:
    big = _many(report, 3)
    cap = 7
    document = _render(big, max_results=cap)
    assert not list(sarif_validator.iter_errors(document))
    (run,) = document["runs"]
    kept = [r["partialFingerprints"]["registryGuard/v1"] for r in run["results"]]
    assert kept == [f.fingerprint for f in _by_severity(big.findings)[:cap]]
    assert {r["properties"]["severity"] for r in run["results"]} == {"critical"}  # 3 x 3 critical come first
    omitted = len(big.findings) - cap
    (notice,) = [n for n in run["invocations"][0]["toolExecutionNotifications"]
                 if n["descriptor"]["id"] == sarif.TRUNCATED_ID]
    assert notice["level"] == "warning"
    assert f"{omitted} of {len(big.findings)} findings are left out" in notice["message"]["text"]
    assert notice["properties"]["resultsOmitted"] == run["properties"]["resultsOmitted"] == omitted
    assert sum(notice["properties"]["omittedBySeverity"].values()) == omitted
    # Leaving results out is not an execution failure: that still means only "the scan read everything".
    assert run["invocations"][0]["executionSuccessful"] is big.complete is True
    assert sarif.render(big, cap) == sarif.render(big, cap)  # deterministic


@pytest.mark.parametrize("cap", [0, 1, 5, 29, 30, 31])
def test_no_result_is_dropped_silently(report: Report, cap: int) -> None:
    big = _many(report, 3)  # 30 findings
    (run,) = _render(big, max_results=cap)["runs"]
    omitted = run["properties"]["resultsOmitted"]
    assert len(run["results"]) == min(cap, len(big.findings))
    assert len(run["results"]) + omitted == len(big.findings)
    notices = [n for n in run["invocations"][0]["toolExecutionNotifications"]
               if n["descriptor"]["id"] == sarif.TRUNCATED_ID]
    assert len(notices) == (1 if omitted else 0)


def test_default_cap_is_githubs_limit() -> None:
    assert sarif.MAX_RESULTS == 25_000


def test_category_comes_from_the_scan_target(report: Report) -> None:
    category = _render(report)["runs"][0]["automationDetails"]["id"]
    assert category == "model-registry-guard/audit/ar:demo/us-central1+gcr:artifacts.demo.appspot.com/"
    # Another project, location or bucket is another category: its upload never closes these alerts.
    other = replace(report, target={"artifact_registry": {"project": "demo", "location": "europe-west4"}})
    assert _render(other)["runs"][0]["automationDetails"]["id"] != category
    shard = replace(report, target={**report.target, "shard": {"index": 1, "count": 4}})
    assert _render(shard)["runs"][0]["automationDetails"]["id"] == category.rstrip("/") + "/shard-1-of-4/"
    # A merge of the shards files its results where the unsharded scan did.
    merged = replace(report, kind="merge", target={**report.target, "shards": {"count": 4, "reports": []}})
    assert _render(merged)["runs"][0]["automationDetails"]["id"] == category


def test_category_of_a_check_names_the_stack(report: Report) -> None:
    check = replace(report, kind="check", target={"program": ".", "stack": "prod"})
    assert _render(check)["runs"][0]["automationDetails"]["id"] == "model-registry-guard/check/prod/"
    nested = replace(check, target={"program": "infra/registry", "stack": "prod"})
    assert _render(nested)["runs"][0]["automationDetails"]["id"] == "model-registry-guard/check/prod/infra/registry/"


def test_category_option_wins(report: Report) -> None:
    document = json.loads(sarif.render(report, options=RenderOptions(sarif_category="registry/eu")))
    assert document["runs"][0]["automationDetails"]["id"] == "registry/eu/"


def test_long_targets_keep_distinct_bounded_categories(report: Report) -> None:
    def category(buckets: list[str]) -> str:
        return str(_render(replace(report, target={"gcr_buckets": buckets}))["runs"][0]["automationDetails"]["id"])

    first = category([f"bucket-{i:03d}.example" for i in range(40)])
    second = category([f"bucket-{i:03d}.example" for i in range(41)])
    assert first != second and max(len(first), len(second)) <= 220


def _check_finding(report: Report) -> ReportFinding:
    (found,) = [f for f in report.findings if f.rule_id == "iam-drift"]
    return replace(found, evidence={"enforcementLevel": "advisory", "stack_config": {
        "file": "Pulumi.prod.yaml", "key": "model-registry:writers", "line": 12, "column": 7, "end_line": 12,
        "end_column": 29}})


def test_a_check_result_points_at_the_config_line_that_set_the_value(sarif_validator: Any,
                                                                      report: Report) -> None:
    check = replace(report, kind="check", findings=(_check_finding(report),))
    document = _render(check)
    assert not list(sarif_validator.iter_errors(document))
    (result,) = document["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "Pulumi.prod.yaml"},
        "region": {"startLine": 12, "startColumn": 7, "endLine": 12, "endColumn": 29}}
    (related,) = result["relatedLocations"]
    assert related["physicalLocation"] == {"artifactLocation": {"uri": "__main__.py"}, "region": {"startLine": 42}}


def test_a_config_file_outside_the_repository_is_not_a_location(report: Report) -> None:
    found = _check_finding(report)
    outside = replace(found, evidence={**found.evidence, "stack_config": {**found.evidence["stack_config"],
                                                                          "file": "/etc/Pulumi.prod.yaml"}})
    (result,) = _render(replace(report, kind="check", findings=(outside,)))["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "__main__.py"
    assert "relatedLocations" not in result


def test_path_prefix_for_a_stack_below_the_repository_root(sarif_validator: Any, report: Report) -> None:
    check = replace(report, kind="check", findings=(_check_finding(report), *report.findings))
    document = json.loads(sarif.render(check, options=RenderOptions(path_prefix="infra/registry/")))
    assert not list(sarif_validator.iter_errors(document))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in document["runs"][0]["results"]}
    assert uris == {"infra/registry/Pulumi.prod.yaml", "infra/registry/__main__.py", "infra/registry/Pulumi.yaml"}
    (located,) = [r for r in document["runs"][0]["results"] if "relatedLocations" in r]
    related = located["relatedLocations"][0]["physicalLocation"]["artifactLocation"]
    assert related["uri"] == "infra/registry/__main__.py"


@pytest.mark.parametrize("prefix", ["/abs", "../up", "a\\b"])
def test_path_prefix_must_stay_inside_the_repository(prefix: str) -> None:
    with pytest.raises(ValueError, match="--sarif-path-prefix"):
        RenderOptions(path_prefix=prefix)
