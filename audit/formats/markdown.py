"""Markdown summary for a review ticket or PR comment.

Kept under GitHub's comment limit (65,536 characters): the fixed parts are always shown, waivers,
resolved and undetermined tables get a capped share, and the findings table gets the rest; whatever
does not fit is counted in a note that points at the full report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from registry_guard.catalogue.severity import MOST_SEVERE_FIRST

from .. import __version__
from ..report import Report, ReportFinding

NAME = "markdown"
SUFFIX = ".md"

GITHUB_COMMENT_LIMIT = 65_536
MAX_CHARS = 65_000  # a little under the limit, for the wrapper a bot may add
CELL_LIMIT = 400  # one huge message must not eat the table

STATUS = {
    "compliant": ("🟢", "Compliant"),
    "non-compliant": ("🔴", "Non-compliant"),
    "incomplete": ("🟠", "Incomplete scan"),
}
SEVERITY_ICON = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦"}
TREND = {"new": "🆕 new", "still-open": "still open"}
WAIVER_STATUS = {"active": "✅ active", "expired": "⚠️ expired", "unused": "💤 unused"}

# Enough to stop emphasis, links, code and table breaks; `<` and `&` are HTML-escaped instead.
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MENTION = re.compile(r"(?<![\w@])@(?=\w)")


def escape(text: Any, limit: int | None = CELL_LIMIT) -> str:
    """Registry text as inert Markdown: no HTML, no formatting, no table breaks, no @mentions."""
    value = " ".join(str(text).split())  # one line: a newline would end the table row
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    value = value.replace("&", "&amp;").replace("<", "&lt;")
    value = _SPECIAL.sub(r"\\\1", value)
    # A zero-width space after @ keeps GitHub from notifying a user or team named in the data.
    return _MENTION.sub("@&#8203;", value)


def code(text: Any, limit: int | None = CELL_LIMIT) -> str:
    """A code span: shown verbatim (no escapes needed but the table pipe), fenced past any backticks."""
    value = " ".join(str(text).split())
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    value = value.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], budget: int, noun: str) -> str:
    lines = [_row(header), "|" + "|".join(":---" for _ in header) + "|"]
    used = sum(len(line) + 1 for line in lines)
    note_room = 200
    shown = 0
    for row in rows:
        line = _row(row)
        if used + len(line) + 1 + note_room > budget:
            break
        lines.append(line)
        used += len(line) + 1
        shown += 1
    if shown < len(rows):
        lines += ["", f"_… {len(rows) - shown} more {noun} not shown here (GitHub comment size limit); "
                      "see the full report._"]
    return "\n".join(lines)


def _target(target: Mapping[str, Any]) -> str:
    parts = []
    ar = target.get("artifact_registry")
    if isinstance(ar, Mapping) and ar.get("project"):
        parts.append(f"project {code(ar['project'])}" + (f" ({escape(ar['location'])})" if ar.get("location")
                                                              else ""))
    buckets = target.get("gcr_buckets") or ()
    if buckets:
        parts.append(f"{len(buckets)} Container Registry bucket(s)")
    registries = target.get("registries") or ()
    if registries:
        parts.append(f"{len(registries)} OCI registr{'y' if len(registries) == 1 else 'ies'}")
    if target.get("desired"):
        parts.append("compared with the stack")
    return ", ".join(parts) or "the configured registries"


def _finding_row(f: ReportFinding) -> list[str]:
    waived = ""
    if f.waiver:
        waived = f"waived until {escape(f.waiver.expires)}"
    location = f" ({code(f.source_location, 120)})" if f.source_location else ""
    return [
        f"{SEVERITY_ICON.get(f.severity, '')} {escape(f.severity)}",
        code(f.rule_id),
        code(f.resource),
        escape(f.message) + location,
        waived,
        TREND.get(f.trend or "", escape(f.trend or "")),
    ]


def _head(report: Report, summary: Mapping[str, Any]) -> str:
    icon, label = STATUS[summary["status"]]
    when = report.generated_at.astimezone(UTC) if report.generated_at.tzinfo else report.generated_at
    counts = " · ".join(f"{summary['by_severity'][s]} {s}" for s in MOST_SEVERE_FIRST if summary["by_severity"][s])
    lines = [
        f"## {icon} Model Registry Guard: {label}",
        "",
        f"**{summary['total']} finding(s)**" + (f" ({counts})" if counts else "")
        + (f", {summary['waived']} waived" if summary.get("waived") else "")
        + f" · {report.kind} of {_target(report.target)} · {when:%Y-%m-%d %H:%M} UTC · model-registry-guard "
        f"{escape(__version__)}",
    ]
    if report.errors:
        lines += ["", "> [!CAUTION]",
                  f"> **The scan could not read everything** ({len(report.errors)} error(s)): findings below are "
                  "incomplete and this report cannot say compliant.", ">"]
        for e in report.errors[:20]:
            lines.append(f"> - **{escape(e.source)}** {code(e.target, 200)}: {escape(e.message, 300)}")
        if len(report.errors) > 20:
            lines.append(f"> - … and {len(report.errors) - 20} more (see the full report)")
    waived = Counter(f.severity for f in report.findings if f.waived)
    new = Counter(f.severity for f in report.findings if f.trend == "new")
    lines += ["", _row(["Severity", "Findings", "Waived", "New"]), "|:---|---:|---:|---:|"]
    for s in MOST_SEVERE_FIRST:
        lines.append(_row([f"{SEVERITY_ICON[s]} {s}", str(summary["by_severity"][s]), str(waived[s]), str(new[s])]))
    trend = summary.get("trend")
    if trend:
        lines += ["", f"Since the previous scan: **{trend['new']} new**, {trend['still_open']} still open, "
                      f"**{trend['resolved']} resolved**."]
    expired = [w for w in report.waivers if w.status == "expired"]
    if expired:
        lines += ["", f"> [!WARNING]\n> {len(expired)} waiver(s) expired: their findings count again."]
    return "\n".join(lines)


def render(report: Report, max_chars: int = MAX_CHARS) -> str:
    summary = report.summary()
    head = _head(report, summary)
    tail = (f"<sub>Rules evaluated: {len(report.rules_evaluated)} · re-render with "
            "`python -m audit report REPORT.json --format FORMAT`</sub>")

    # Side tables first, each with a capped share, so the findings table knows what is left.
    side: list[str] = []
    if report.waivers:
        rows = [[WAIVER_STATUS.get(w.status, escape(w.status)), code(w.rule_id), code(w.resource),
                 escape(w.owner), escape(w.expires), str(w.matched), escape(w.justification)]
                for w in report.waivers]
        side.append("### Waivers\n\n" + _table(
            ["Status", "Rule", "Resource", "Owner", "Expires", "Matched", "Justification"], rows, 10_000, "waivers"))
    if report.resolved:
        rows = [[f"{SEVERITY_ICON.get(f.severity, '')} {escape(f.severity)}", code(f.rule_id),
                 code(f.resource), escape(f.message)] for f in report.resolved]
        side.append(f"### ✅ Resolved since the previous scan ({len(report.resolved)})\n\n" + _table(
            ["Severity", "Rule", "Resource", "Was"], rows, 8_000, "resolved findings"))
    if report.undetermined:
        rows = [[code(u.rule_id), code(u.resource), escape(u.reason)] for u in report.undetermined]
        side.append(f"### Undetermined ({len(report.undetermined)})\n\n" + _table(
            ["Rule", "Resource", "Why"], rows, 5_000, "undetermined checks"))

    fixed = len(head) + len(tail) + sum(len(s) + 2 for s in side) + 200
    if report.findings:
        rows = [_finding_row(f) for f in report.findings]
        findings = f"### Findings ({len(report.findings)})\n\n" + _table(
            ["Severity", "Rule", "Resource", "Message", "Waived", "Trend"], rows, max_chars - fixed, "findings")
    else:
        findings = "### Findings\n\nNo findings."
    text = "\n\n".join([head, findings, *side, tail]) + "\n"
    if len(text) > max_chars:  # only reachable with absurd error lists; never exceed the limit
        text = text[: max_chars - 80] + "\n\n_… truncated (GitHub comment size limit); see the full report._\n"
    return text
