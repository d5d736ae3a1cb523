"""JUnit XML: CI dashboards show each (rule, resource) as a test.

A failure per (rule, resource) with findings; skipped when every finding there is waived (the
justification is the skip message) or the rule could not be judged; one passing "no findings" case per
evaluated rule without findings; an error case per scan error, so an incomplete scan is never green.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from ..report import Report, ReportFinding

NAME = "junit"
SUFFIX = ".junit.xml"

SUITE = "model-registry-guard"
PASS_NAME = "no findings"


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


def to_element(report: Report) -> ET.Element:
    groups: dict[tuple[str, str], list[ReportFinding]] = {}
    for finding in report.findings:
        groups.setdefault((finding.rule_id, finding.resource), []).append(finding)

    root = ET.Element("testsuites", {"name": SUITE})
    suite = ET.SubElement(root, "testsuite", {
        "name": SUITE, "timestamp": report.generated_at.isoformat(),
        "time": f"{float(report.timings.get('total', 0.0)):.3f}",
    })
    props = ET.SubElement(suite, "properties")
    summary = report.summary()
    target = ((f"target.{k}", v if isinstance(v, str) else json.dumps(v, default=str))
              for k, v in report.target.items())
    for key, value in (("status", summary["status"]), ("complete", str(report.complete).lower()),
                       ("kind", report.kind), *target):
        ET.SubElement(props, "property", {"name": _xml_text(key), "value": _xml_text(value)})

    failures = skipped = errors = 0
    for (rule_id, resource), findings in groups.items():
        case = _case(suite, rule_id, resource)
        worst = findings[0]  # report order is most severe first
        text = _xml_text(_describe(findings))
        if all(f.waived for f in findings):
            justification = "; ".join(dict.fromkeys(f.waiver.justification for f in findings if f.waiver))
            ET.SubElement(case, "skipped", {"message": _xml_text(f"waived: {justification}")}).text = text
            skipped += 1
        else:
            count = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
            ET.SubElement(case, "failure", {"message": _xml_text(worst.message + count),
                                            "type": worst.severity}).text = text
            failures += 1

    for u in report.undetermined:
        if (u.rule_id, u.resource) in groups:
            continue
        case = _case(suite, u.rule_id, u.resource)
        ET.SubElement(case, "skipped", {"message": _xml_text(f"undetermined: {u.reason}")})
        skipped += 1

    with_findings = {rule_id for rule_id, _ in groups}
    for rule_id in dict.fromkeys(report.rules_evaluated):
        if rule_id not in with_findings:
            _case(suite, rule_id, PASS_NAME)

    for error in report.errors:
        case = _case(suite, f"scan.{error.source}", error.target)
        ET.SubElement(case, "error", {"message": _xml_text(error.message), "type": "ScanError"}).text = \
            _xml_text(f"{error.source} could not read {error.target}: {error.message}")
        errors += 1

    tests = len(suite.findall("testcase"))
    counts = {"tests": str(tests), "failures": str(failures), "errors": str(errors), "skipped": str(skipped)}
    suite.attrib.update(counts)
    root.attrib.update(counts | {"time": suite.attrib["time"]})
    return root


def render(report: Report) -> str:
    root = to_element(report)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
