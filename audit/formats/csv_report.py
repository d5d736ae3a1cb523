"""CSV: one row per finding, for spreadsheets and ticket imports.

Finding text comes from the registry (resource names, labels, member names), so a cell could start a
spreadsheet formula; such cells are prefixed with a quote (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io

from ..report import Report, ReportFinding

NAME = "csv"
SUFFIX = ".csv"

COLUMNS = (
    "rule_id", "severity", "title", "resource", "message", "waived", "waiver_justification", "waiver_expires",
    "trend", "frameworks", "remediation", "source_location", "fingerprint",
)
# Tab and carriage return also start formulas in some spreadsheet apps.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: str) -> str:
    """A cell a spreadsheet will show as text, never evaluate."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _row(finding: ReportFinding) -> list[str]:
    waiver = finding.waiver
    cells = [
        finding.rule_id,
        finding.severity,
        finding.title,
        finding.resource,
        finding.message,
        "true" if finding.waived else "false",
        waiver.justification if waiver else "",
        waiver.expires if waiver else "",
        finding.trend or "",
        "; ".join(finding.frameworks),
        " | ".join(finding.remediation),
        finding.source_location or "",
        finding.fingerprint,
    ]
    return [neutralize(cell) for cell in cells]


def render(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows(_row(f) for f in report.findings)
    return out.getvalue()
