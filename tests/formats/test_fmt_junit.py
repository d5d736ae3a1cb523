"""JUnit XML: valid against the common JUnit XSD, one suite per rule, one case per (rule, resource), passes
for clean rules, errors for read failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from audit.formats import junit
from audit.report import Report

# Jenkins' junit-10.xsd (xunit plugin), vendored with its licence note (schemas/README.md).
SCHEMA = Path(__file__).parent / "schemas" / "junit-10.xsd"


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA))


def _suites(report: Report) -> tuple[ET.Element, dict[str, ET.Element]]:
    root = ET.fromstring(junit.render(report))
    assert root.tag == "testsuites"
    suites = {s.get("name") or "": s for s in root.findall("testsuite")}
    assert len(suites) == len(root.findall("testsuite"))  # one suite per name
    return root, suites


def _cases(suites: dict[str, ET.Element]) -> list[ET.Element]:
    return [c for s in suites.values() for c in s.findall("testcase")]


def test_valid_against_the_junit_schema(junit_schema: xmlschema.XMLSchema, report: Report, incomplete: Report,
                                        empty: Report) -> None:
    for r in (report, incomplete, empty):
        errors = list(junit_schema.iter_errors(junit.render(r)))
        assert not errors, errors[0]


def test_the_schema_refuses_what_it_should(junit_schema: xmlschema.XMLSchema, report: Report) -> None:
    """The check can fail: a `skipped` count on <testsuites> (what the format wrote before) is refused."""
    root = ET.fromstring(junit.render(report))
    root.set("skipped", "2")
    assert not junit_schema.is_valid(ET.tostring(root, encoding="unicode"))


def test_demo_report_is_valid(junit_schema: xmlschema.XMLSchema, demo: Report) -> None:
    assert not list(junit_schema.iter_errors(junit.render(demo)))


def test_one_suite_per_rule(report: Report) -> None:
    _, suites = _suites(report)
    rules = list(dict.fromkeys([*report.rules_evaluated, *(f.rule_id for f in report.findings)]))
    assert list(suites) == [junit.SUITE, *rules]
    for rule_id in rules:
        assert {c.get("classname") for c in suites[rule_id].findall("testcase")} == {rule_id}
    props = {p.get("name"): p.get("value") for p in suites["no-public-access"].iter("property")}
    assert props == {"title": "Registry is not public", "severity": "critical"}


def test_counts_match_the_cases(report: Report) -> None:
    root, suites = _suites(report)
    groups = {(f.rule_id, f.resource) for f in report.findings}
    clean_rules = [r for r in report.rules_evaluated if r not in {f.rule_id for f in report.findings}
                   and r not in {u.rule_id for u in report.undetermined}]
    cases = [c for c in _cases(suites) if c.get("classname") != "scan"]
    # the undetermined (rule, resource) has no finding, so it is a skipped case of its own
    assert len(cases) == len(groups) + len(clean_rules) + len(report.undetermined)
    failures = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert len(failures) == sum(1 for g in groups if any(
        not f.waived for f in report.findings if (f.rule_id, f.resource) == g))
    assert len(skipped) == 2  # the waived finding and the undetermined check
    for suite in suites.values():
        mine = suite.findall("testcase")
        assert suite.get("tests") == str(len(mine))
        assert suite.get("failures") == str(sum(1 for c in mine if c.find("failure") is not None))
        assert suite.get("skipped") == str(sum(1 for c in mine if c.find("skipped") is not None))
        assert suite.get("errors") == "0"
    assert root.get("tests") == str(len(_cases(suites)))
    assert root.get("failures") == str(len(failures)) and root.get("errors") == "0"
    assert root.get("skipped") is None  # not allowed there by the XSD


def test_cases_name_rule_and_resource(report: Report) -> None:
    _, suites = _suites(report)
    names = {(c.get("classname"), c.get("name")) for c in _cases(suites)}
    for f in report.findings:
        assert (f.rule_id, f.resource) in names
    (failure,) = suites["version-tag-moved"].findall("testcase")
    element = failure.find("failure")
    assert element is not None and element.get("type") == "critical"
    assert "Remediation" in (element.text or "")


def test_waived_finding_is_skipped_with_its_justification(report: Report) -> None:
    _, suites = _suites(report)
    (case,) = suites["no-broad-admin"].findall("testcase")
    skipped = case.find("skipped")
    assert skipped is not None and "SEC-42" in (skipped.get("message") or "")


def test_one_passing_case_per_clean_rule(report: Report) -> None:
    _, suites = _suites(report)
    passing = [c for c in _cases(suites) if len(c) == 0 and c.get("classname") != "scan"]
    assert {c.get("classname") for c in passing} == (
        set(report.rules_evaluated) - {f.rule_id for f in report.findings} - {u.rule_id for u in report.undetermined})
    assert all(c.get("name") == junit.PASS_NAME for c in passing)


def test_scan_errors_are_error_cases(incomplete: Report) -> None:
    root, suites = _suites(incomplete)
    errors = [c for c in suites[junit.SUITE].findall("testcase") if c.find("error") is not None]
    assert len(errors) == len(incomplete.errors) == len(suites[junit.SUITE].findall("testcase"))
    assert suites[junit.SUITE].get("errors") == root.get("errors") == str(len(incomplete.errors))
    assert {c.get("classname") for c in errors} == {"scan.artifact-registry", "scan.oci"}


def test_clean_scan_is_all_green(empty: Report) -> None:
    root, suites = _suites(empty)
    for element in (root, *suites.values()):
        assert element.get("failures") == element.get("errors") == "0"
    assert all(s.get("skipped") == "0" for s in suites.values())
    assert root.get("tests") == str(len(empty.rules_evaluated) + 1)  # + the run's "every source read"
    (complete,) = suites[junit.SUITE].findall("testcase")
    assert complete.get("name") == junit.COMPLETE_NAME


def test_demo_report(demo: Report) -> None:
    _, suites = _suites(demo)
    cases = _cases(suites)
    failing = sum(1 for c in cases if c.find("failure") is not None or c.find("skipped") is not None)
    assert failing == len({(f.rule_id, f.resource) for f in demo.findings}) + len(
        {(u.rule_id, u.resource) for u in demo.undetermined} - {(f.rule_id, f.resource) for f in demo.findings})
