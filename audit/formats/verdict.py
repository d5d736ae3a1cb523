"""The one-line verdict every human-facing output leads with (console, Markdown, HTML).

Why not only `summary.status`: an offline `check` passes or is blocked by the policy pack, which depends on
the enforcement level of each violation, not on whether there are findings at all. A check whose
violations are all advisory lets `pulumi up` through, and must not be titled "Non-compliant".
"""

from __future__ import annotations

from dataclasses import dataclass

from ..report import Report, ReportFinding


@dataclass(frozen=True)
class Verdict:
    status: str  # compliant | non-compliant | incomplete | passes | blocked
    label: str
    meaning: str
    good: bool


def mandatory(findings: tuple[ReportFinding, ...]) -> list[ReportFinding]:
    """Unwaived check findings the pack enforces as mandatory: what would block `pulumi up`."""
    return [f for f in findings if f.evidence.get("enforcementLevel") == "mandatory" and not f.waived]


def verdict(report: Report) -> Verdict:
    status = report.summary()["status"]
    if status == "incomplete":
        return Verdict(status, "Incomplete scan", "The scan could not read everything, so it cannot say compliant.",
                       False)
    if report.kind == "check":
        blocking = mandatory(report.findings)
        if blocking:
            return Verdict("blocked", "Blocked by the policy pack",
                           f"{len(blocking)} mandatory violation(s): `pulumi up --policy-pack` would be blocked.",
                           False)
        advisory = sum(1 for f in report.findings if not f.waived)
        return Verdict("passes", "Passes the policy pack",
                       "No mandatory violation: `pulumi up --policy-pack` would pass"
                       + (f" ({advisory} advisory finding(s) to review)." if advisory else "."), True)
    if status == "compliant":
        return Verdict(status, "Compliant", "A complete scan found no unwaived findings.", True)
    return Verdict(status, "Non-compliant", "The scan found unwaived findings.", False)
