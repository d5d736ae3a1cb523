"""What the CLI prints for people and CI logs: every line escaped, and the findings as a table.

Registry names reach the console (repository names in read errors, resources in the findings table), and a
console is not inert: a newline followed by `::error ...` is a GitHub Actions workflow command in the job's
log, an ANSI escape can move the cursor and forge lines, a bidirectional override reorders what follows.
`safe` shows every control character (C0, DEL, C1) and bidirectional control as a visible escape, so one
value is always one piece of one line.

The table follows Trivy and Checkov: after the summary line, one row per finding (severity, rule, resource,
message), grouped by rule with the most severe first; long values are cut with an ellipsis to the terminal's
width (160 columns off a terminal, or $COLUMNS), and past `max_rows` the rest are counted, not printed: the reports have
every finding.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from registry_guard.catalogue.severity import is_severity, severity_rank

if TYPE_CHECKING:  # the progress display imports `safe` from here, in every source: keep this module light
    from .report import Report, ReportFinding

# Bidirectional embeddings, overrides, isolates and marks.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}
MAX_ROWS = 60
ROWS_PER_RULE = 10
WIDTH_OFF_TERMINAL = 160  # CI log viewers are wide; a narrow table would cut every message
RESOURCE_WIDTH = 44
STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan"}


def _escaped(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe(text: Any) -> str:
    """`text` as one inert piece of a console line: control characters and bidi controls escaped."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(_escaped(c) if c in _BIDI or unicodedata.category(c) == "Cc" else c for c in value)


_DIGEST = re.compile(r"(sha256:[0-9a-f]{12})[0-9a-f]{52}")


def tail(text: str, width: int = RESOURCE_WIDTH) -> str:
    """A resource name for a table cell: digests cut to 12 hex digits (as `docker images` shows them), then
    cut from the left, since its last part (the repository, the image) tells it apart."""
    text = _DIGEST.sub(r"\1…", text)
    return text if len(text) <= width else "…" + text[-(width - 1):]


def _rank(severity: str) -> int:
    return severity_rank(severity) if is_severity(severity) else 0


def _grouped(findings: Sequence[ReportFinding]) -> list[list[ReportFinding]]:
    """Findings by rule: the most severe rule first, then the most findings, then by id; within a rule,
    unwaived first (report order otherwise)."""
    groups: dict[str, list[ReportFinding]] = {}
    for f in findings:
        groups.setdefault(f.rule_id, []).append(f)
    order = sorted(groups, key=lambda r: (-_rank(groups[r][0].severity), -len(groups[r]), r))
    return [sorted(groups[r], key=lambda f: f.waived) for r in order]


def _status(f: ReportFinding) -> str:
    parts = []
    if f.evidence.get("enforcementLevel") == "mandatory" and not f.waived:
        parts.append("blocks")
    if f.waived:
        parts.append("waived")
    if f.trend == "new":
        parts.append("new")
    return ", ".join(parts)


def print_findings(report: Report, out: TextIO, *, terminal: bool | None = None, width: int | None = None,
                   max_rows: int = MAX_ROWS, rows_per_rule: int = ROWS_PER_RULE) -> None:
    """The findings table on `out` (nothing when there are no findings)."""
    if not report.findings:
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    is_terminal = out.isatty() if terminal is None else terminal
    if width is None and not is_terminal:
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() and int(columns) >= 40 else WIDTH_OFF_TERMINAL
    console = Console(file=out, width=width, force_terminal=is_terminal, no_color=not is_terminal,
                      highlight=False, soft_wrap=False)
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", expand=True, pad_edge=False)
    table.add_column("Severity", no_wrap=True, min_width=8)
    table.add_column("Rule", no_wrap=True, overflow="ellipsis", max_width=26)
    table.add_column("Resource", no_wrap=True, overflow="ellipsis", max_width=RESOURCE_WIDTH)
    table.add_column("Message", no_wrap=True, overflow="ellipsis", ratio=1, min_width=20)
    table.add_column("Status", no_wrap=True, min_width=6)
    shown = announced = 0
    groups = _grouped(report.findings)
    for position, group in enumerate(groups):
        if shown >= max_rows:
            break
        rows = group[:min(rows_per_rule, max_rows - shown)]
        last = position == len(groups) - 1
        for index, f in enumerate(rows):
            # Text, never markup: registry text like "[bold]" stays text.
            table.add_row(Text(safe(f.severity.upper()), style=STYLE.get(f.severity, "")),
                          Text(safe(f.rule_id) if index == 0 else ""), Text(tail(safe(f.resource))),
                          Text(safe(f.message)), Text(_status(f)),
                          end_section=index == len(rows) - 1 and len(group) == len(rows) and not last)
        shown += len(rows)
        if len(group) > len(rows):
            table.add_row("", "", Text(f"… {len(group) - len(rows)} more {safe(group[0].rule_id)} finding(s)",
                                       style="dim"), "", "", end_section=not last)
            announced += len(group) - len(rows)
    console.print(table)
    rest = len(report.findings) - shown - announced
    if rest > 0:
        console.print(Text(f"… {rest} more finding(s) of other rules not shown here; the report has every "
                           "finding."))


# Framework names as short as a column allows (the full names are in docs/rules.md and `rules --json`).
FRAMEWORK_SHORT = {
    "CIS Google Cloud Platform Foundation Benchmark": "CIS GCP",
    "FINOS Common Cloud Controls, Container Registry": "FINOS",
    "Google Security Command Center, Security Health Analytics": "SCC",
}


def rules_json() -> list[dict[str, Any]]:
    """The catalogue as data, from the declarations."""
    from registry_guard.catalogue.rule import all_rules

    return [{"id": r.id, "title": r.title, "severity": r.severity, "where": list(r.where),
             "deploy_enforcement": r.enforcement if r.deploy_time else None, "settings": list(r.settings),
             "frameworks": [{"name": f.name, "version": f.version, "reference": f.reference} for f in r.frameworks],
             "url": r.url or None} for r in all_rules().values()]


def print_rules(out: TextIO, *, terminal: bool | None = None, width: int | None = None) -> None:
    """The catalogue as a table: id, severity, where it runs (deploy, live, ...), frameworks, title."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    is_terminal = out.isatty() if terminal is None else terminal
    rules = rules_json()
    console = Console(file=out, width=width or (None if is_terminal else WIDTH_OFF_TERMINAL),
                      force_terminal=is_terminal, no_color=not is_terminal, highlight=False)
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False,
                  caption=f"{len(rules)} rules. deploy: the policy pack at `pulumi up`; live, history, declared: "
                          "the nightly audit (history and declared need --history and --desired).")
    for name in ("Rule", "Severity", "Where", "Frameworks", "Title"):
        table.add_column(name, overflow="fold")
    for r in rules:
        frameworks = "; ".join(f"{FRAMEWORK_SHORT.get(f['name'], f['name'])} {f['reference']}"
                               for f in r["frameworks"])
        table.add_row(Text(r["id"]), Text(r["severity"], style=STYLE.get(r["severity"], "")),
                      Text(", ".join(r["where"])), Text(frameworks), Text(r["title"]))
    console.print(table)
