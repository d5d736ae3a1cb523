"""OSCAL assessment-results: built with trestle's models and loadable back through them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trestle.oscal.assessment_results import AssessmentResults

from audit.formats import oscal
from audit.report import Report


def _token(value: Any) -> str:
    """An OSCAL token as read back by trestle (an enum member or a TokenDatatype root) as its text."""
    while hasattr(value, "root"):
        value = value.root
    return str(getattr(value, "value", value))


def _load(report: Report, tmp_path: Path) -> AssessmentResults:
    path = tmp_path / "ar.json"
    path.write_text(oscal.render(report), encoding="utf-8")
    loaded = AssessmentResults.oscal_read(path)
    assert isinstance(loaded, AssessmentResults)
    return loaded


def test_loads_back_through_trestle(report: Report, tmp_path: Path) -> None:
    doc = _load(report, tmp_path)
    (result,) = doc.results
    assert len(result.observations or []) == len(report.findings)
    assert len(result.findings or []) == len(report.findings)
    observations = {o.uuid: o for o in result.observations or []}
    for oscal_finding, finding in zip(result.findings or [], report.findings, strict=True):
        (related,) = oscal_finding.related_observations or []
        observation = observations[related.observation_uuid]
        assert observation.description == finding.message
        props = {p.name: p.value for p in observation.props or []}
        assert props["rule-id"] == finding.rule_id and props["fingerprint"] == finding.fingerprint
        assert oscal_finding.target.status is not None
        assert oscal_finding.target.status.state.value == "not-satisfied"
    assert result.end is not None and result.start <= result.end
    assert result.end == report.generated_at


def test_reviewed_controls_come_from_the_catalogue(report: Report, tmp_path: Path) -> None:
    (result,) = _load(report, tmp_path).results
    (selection,) = result.reviewed_controls.control_selections
    ids = {c.control_id for c in selection.include_controls}  # type: ignore[union-attr]
    assert {"cis-gcp-5.1", "cis-gcp-1.5", "ccc-CCC.CntrReg.CP09", "gcp-sha-PUBLIC_BUCKET_ACL"} <= ids


def test_finding_targets_and_waivers(report: Report, tmp_path: Path) -> None:
    (result,) = _load(report, tmp_path).results
    by_rule = {next(p.value for p in f.props or [] if p.name == "rule-id"): f for f in result.findings or []}
    assert by_rule["no-public-access"].target.target_id == "cis-gcp-5.1"
    assert by_rule["legacy-gcr"].target.target_id == "registry-guard-legacy-gcr"  # no framework mapping
    waived = by_rule["no-broad-admin"]
    assert {p.name: p.value for p in waived.props or []}["waived"] == "true"
    assert waived.remarks and "SEC-42" in waived.remarks


def test_evidence_is_kept(report: Report, tmp_path: Path) -> None:
    (result,) = _load(report, tmp_path).results
    evidence = [e.description for o in result.observations or [] for e in o.relevant_evidence or []]
    assert 'member: "allUsers"' in evidence
    assert "declared at __main__.py#42" in evidence


def test_incomplete_scan_is_recorded(incomplete: Report, tmp_path: Path) -> None:
    (result,) = _load(incomplete, tmp_path).results
    assert result.remarks and "403 Forbidden" in result.remarks
    assert {p.name: p.value for p in result.props or []}["complete"] == "false"


def test_same_report_same_document(report: Report) -> None:
    assert oscal.render(report) == oscal.render(report)


def test_empty_and_demo_reports(empty: Report, tmp_path: Path) -> None:
    (result,) = _load(empty, tmp_path).results
    assert not result.findings
    assert json.loads(oscal.render(empty))["assessment-results"]["metadata"]["oscal-version"]


def test_demo_report(demo: Report, tmp_path: Path) -> None:
    (result,) = _load(demo, tmp_path).results
    assert len(result.findings or []) == len(demo.findings)


def test_open_findings_are_risks_linked_from_their_findings(report: Report, tmp_path: Path) -> None:
    (result,) = _load(report, tmp_path).results
    risks = {r.uuid: r for r in result.risks or []}
    assert len(risks) == len(report.findings)
    for oscal_finding, finding in zip(result.findings or [], report.findings, strict=True):
        (link,) = oscal_finding.related_risks or []
        risk = risks[link.risk_uuid]  # resolves inside the document
        assert _token(risk.status) == ("deviation-approved" if finding.waived else "open")
        (observed,) = risk.related_observations or []
        assert observed.observation_uuid == (oscal_finding.related_observations or [])[0].observation_uuid
        assert finding.message in risk.description


def test_waived_findings_are_deviation_approved_risks_with_their_justification(report: Report,
                                                                               tmp_path: Path) -> None:
    (result,) = _load(report, tmp_path).results
    (approved,) = [r for r in result.risks or [] if _token(r.status) == "deviation-approved"]
    (entry,) = approved.risk_log.entries  # type: ignore[union-attr]
    assert entry.status_change is not None and _token(entry.status_change) == "deviation-approved"
    assert "SEC-42" in (entry.description or "") and "ml-platform@example.com" in (entry.description or "")
    assert approved.deadline is not None and approved.deadline.date().isoformat() == "2099-01-31"
    props = {p.name: p.value for p in approved.props or []}
    assert props["waiver-owner"] == "ml-platform@example.com" and props["rule-id"] == "no-broad-admin"


def test_observations_name_their_subjects(report: Report, tmp_path: Path) -> None:
    (result,) = _load(report, tmp_path).results
    items = {i.uuid: i for i in (result.local_definitions.inventory_items or [])}  # type: ignore[union-attr]
    assert {i.description for i in items.values()} == {f.resource for f in report.findings}
    for observation, finding in zip(result.observations or [], report.findings, strict=True):
        (subject,) = observation.subjects or []
        assert _token(subject.type) == "inventory-item"
        assert items[subject.subject_uuid].description == finding.resource


def test_import_ap_resolves_through_the_back_matter(report: Report, tmp_path: Path) -> None:
    import base64

    doc = _load(report, tmp_path)
    href = doc.import_ap.href
    assert href.startswith("#")
    resources = {r.uuid: r for r in doc.back_matter.resources or []}  # type: ignore[union-attr]
    plan = resources[href[1:]]
    assert plan.base64 is not None
    listed = json.loads(base64.b64decode(plan.base64.value))
    assert [r["id"] for r in listed["rules"]] == list(report.rules_evaluated)
    assert {r["severity"] for r in listed["rules"]} <= {"critical", "high", "medium", "low"}
