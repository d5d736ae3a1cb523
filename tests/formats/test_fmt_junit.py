"""JUnit XML: parses, one case per (rule, resource), passes for clean rules, errors for read failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from audit.formats import junit
from audit.report import Report


def _suite(report: Report) -> tuple[ET.Element, ET.Element]:
    root = ET.fromstring(junit.render(report))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    return root, suite


def test_counts_match_the_cases(report: Report) -> None:
    root, suite = _suite(report)
    cases = suite.findall("testcase")
    groups = {(f.rule_id, f.resource) for f in report.findings}
    clean_rules = [r for r in report.rules_evaluated if r not in {f.rule_id for f in report.findings}]
    # the undetermined (rule, resource) has no finding, so it is a skipped case of its own
    assert len(cases) == len(groups) + len(clean_rules) + len(report.undetermined)
    failures = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert len(failures) == sum(1 for g in groups if any(
        not f.waived for f in report.findings if (f.rule_id, f.resource) == g))
    assert len(skipped) == 2  # the waived finding and the undetermined check
    for element in (root, suite):
        assert element.get("tests") == str(len(cases))
        assert element.get("failures") == str(len(failures))
        assert element.get("skipped") == str(len(skipped))
        assert element.get("errors") == "0"


def test_cases_name_rule_and_resource(report: Report) -> None:
    _, suite = _suite(report)
    names = {(c.get("classname"), c.get("name")) for c in suite.findall("testcase")}
    for f in report.findings:
        assert (f.rule_id, f.resource) in names
    failure = next(c for c in suite.findall("testcase") if c.get("classname") == "version-tag-moved")
    element = failure.find("failure")
    assert element is not None and element.get("type") == "critical"
    assert "Remediation" in (element.text or "")


def test_waived_finding_is_skipped_with_its_justification(report: Report) -> None:
    _, suite = _suite(report)
    case = next(c for c in suite.findall("testcase") if c.get("classname") == "no-broad-admin")
    skipped = case.find("skipped")
    assert skipped is not None and "SEC-42" in (skipped.get("message") or "")


def test_one_passing_case_per_clean_rule(report: Report) -> None:
    _, suite = _suite(report)
    passing = [c for c in suite.findall("testcase") if len(c) == 0]
    assert {c.get("classname") for c in passing} == (
        set(report.rules_evaluated) - {f.rule_id for f in report.findings})
    assert all(c.get("name") == junit.PASS_NAME for c in passing)


def test_scan_errors_are_error_cases(incomplete: Report) -> None:
    root, suite = _suite(incomplete)
    errors = [c for c in suite.findall("testcase") if c.find("error") is not None]
    assert len(errors) == len(incomplete.errors)
    assert suite.get("errors") == root.get("errors") == str(len(incomplete.errors))
    assert {c.get("classname") for c in errors} == {"scan.artifact-registry", "scan.oci"}


def test_clean_scan_is_all_green(empty: Report) -> None:
    _, suite = _suite(empty)
    assert suite.get("failures") == suite.get("errors") == suite.get("skipped") == "0"
    assert suite.get("tests") == str(len(empty.rules_evaluated))


def test_demo_report(demo: Report) -> None:
    _, suite = _suite(demo)
    assert int(suite.get("failures") or 0) + int(suite.get("skipped") or 0) == len(
        {(f.rule_id, f.resource) for f in demo.findings}) + len(
        {(u.rule_id, u.resource) for u in demo.undetermined} - {(f.rule_id, f.resource) for f in demo.findings})
