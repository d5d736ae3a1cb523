"""JUnit XML: CI dashboards show each rule as a test suite and each (rule, resource) as a test.

A failure per (rule, resource) with findings; skipped when every finding there is waived (the
justification is the skip message) or the rule could not be judged; one passing "no findings" case per
evaluated rule without findings. The first suite is the run itself: an error case per scan error, so an
incomplete scan is never green. The document validates against the common JUnit XSD (Jenkins' junit-10.xsd,
which most CI dashboards read): `<testsuites>` carries no `skipped` count, each `<testsuite>` does.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from registry_guard.catalogue.findings import Undetermined
from registry_guard.catalogue.rule import all_rules

from ..report import Report, ReportFinding

NAME = "junit"
SUFFIX = ".junit.xml"

SUITE = "model-registry-guard"
PASS_NAME = "no findings"
COMPLETE_NAME = "every source read"


def _xml_text(value: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters from registry data)."""
    return "".join(c for c in value if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd")
                   or c >= "\U00010000")


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", {"classname": _xml_text(classname), "name": _xml_text(name),
                                             "time": "0"})


def _describe(findings: Sequence[ReportFinding]) -> str:
    lines = []
    for f in findings:
        lines.append(f"[{f.severity}] {f.message}")
        if f.waiver:
            lines.append(f"  waived until {f.waiver.expires} by {f.waiver.owner}: {f.waiver.justification}")
        if f.source_location:
            lines.append(f"  at {f.source_location}")
    if findings:
        first = findings[0]  # same rule: one remediation
        lines += ["", "Remediation:", *(f"- {step}" for step in first.remediation)]
        if first.frameworks:
            lines += ["Frameworks: " + "; ".join(first.frameworks)]
    return "\n".join(lines)


def _suite(root: ET.Element, name: str, timestamp: str, time: str = "0") -> ET.Element:
    return ET.SubElement(root, "testsuite", {"name": _xml_text(name), "timestamp": timestamp, "time": time})


def _count(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    return {"tests": len(cases),
            "failures": sum(1 for c in cases if c.find("failure") is not None),
            "errors": sum(1 for c in cases if c.find("error") is not None),
            "skipped": sum(1 for c in cases if c.find("skipped") is not None)}


def _scan_suite(root: ET.Element, report: Report, timestamp: str) -> None:
    """The run itself: its properties, and an error case per scan error (an incomplete scan is never green),
    or one passing case saying everything was read."""
    suite = _suite(root, SUITE, timestamp, f"{float(report.timings.get('total', 0.0)):.3f}")
    props = ET.SubElement(suite, "properties")
    summary = report.summary()
    target = ((f"target.{k}", v if isinstance(v, str) else json.dumps(v, default=str))
              for k, v in report.target.items())
    for key, value in (("status", summary["status"]), ("complete", str(report.complete).lower()),
                       ("kind", report.kind), *target):
        ET.SubElement(props, "property", {"name": _xml_text(key), "value": _xml_text(value)})
    for error in report.errors:
        case = _case(suite, f"scan.{error.source}", error.target)
        ET.SubElement(case, "error", {"message": _xml_text(error.message), "type": "ScanError"}).text = \
            _xml_text(f"{error.source} could not read {error.target}: {error.message}")
    if not report.errors:
        _case(suite, "scan", COMPLETE_NAME)


def _rule_suite(root: ET.Element, rule_id: str, findings: Sequence[ReportFinding],
                undetermined: Sequence[Undetermined], timestamp: str) -> None:
    suite = _suite(root, rule_id, timestamp)
    rule = all_rules().get(rule_id)
    severity = rule.severity if rule else (findings[0].severity if findings else "")
    title = rule.title if rule else (findings[0].title if findings else rule_id)
    props = ET.SubElement(suite, "properties")
    for key, value in (("title", title), ("severity", severity)):
        ET.SubElement(props, "property", {"name": key, "value": _xml_text(value)})
    by_resource: dict[str, list[ReportFinding]] = {}
    for finding in findings:
        by_resource.setdefault(finding.resource, []).append(finding)
    for resource, group in by_resource.items():
        case = _case(suite, rule_id, resource)
        worst = group[0]  # report order is most severe first
        text = _xml_text(_describe(group))
        if all(f.waived for f in group):
            justification = "; ".join(dict.fromkeys(f.waiver.justification for f in group if f.waiver))
            ET.SubElement(case, "skipped", {"message": _xml_text(f"waived: {justification}")}).text = text
        else:
            count = f" (+{len(group) - 1} more)" if len(group) > 1 else ""
            ET.SubElement(case, "failure", {"message": _xml_text(worst.message + count),
                                            "type": worst.severity}).text = text
    for u in undetermined:
        if u.resource in by_resource:
            continue
        case = _case(suite, rule_id, u.resource)
        ET.SubElement(case, "skipped", {"message": _xml_text(f"undetermined: {u.reason}")})
    if not findings and not undetermined:
        _case(suite, rule_id, PASS_NAME)


def to_element(report: Report) -> ET.Element:
    """`<testsuites>` (the attributes the common JUnit XSD allows there: no `skipped`) holding the run's own
    suite, then one suite per rule that ran or found something, in catalogue order."""
    findings: dict[str, list[ReportFinding]] = {}
    for finding in report.findings:
        findings.setdefault(finding.rule_id, []).append(finding)
    undetermined: dict[str, list[Undetermined]] = {}
    for u in report.undetermined:
        undetermined.setdefault(u.rule_id, []).append(u)

    root = ET.Element("testsuites", {"name": SUITE})
    timestamp = report.generated_at.isoformat()
    _scan_suite(root, report, timestamp)
    for rule_id in dict.fromkeys([*report.rules_evaluated, *findings, *undetermined]):
        _rule_suite(root, rule_id, findings.get(rule_id, ()), undetermined.get(rule_id, ()), timestamp)

    totals = dict.fromkeys(("tests", "failures", "errors"), 0)
    for suite in root.findall("testsuite"):
        counts = _count(suite)
        suite.attrib.update({k: str(v) for k, v in counts.items()})
        for key in totals:
            totals[key] += counts[key]
    root.attrib.update({k: str(v) for k, v in totals.items()}
                       | {"time": f"{float(report.timings.get('total', 0.0)):.3f}"})
    return root


def render(report: Report) -> str:
    root = to_element(report)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
