"""Markdown for a review ticket or a pull request comment.

It leads with the verdict and a per-rule rollup (what a reviewer reads first), then one `<details>` section
per severity: for each rule its remediation, and for each finding the resource, the message and where it
is declared (a link to that line when `--source-url` names the repository's files). Waivers, resolved
and undetermined checks follow.

Kept under GitHub's comment limit (65,536 characters) at any size: the verdict, rollup and section
headings are always shown, the side tables get a capped share, and the findings get the rest, most severe
first; whatever does not fit is counted in a note that points at the full report.

All registry text is inert: no HTML, no formatting, no table breaks, no @mentions, no links (a bare URL
becomes a code span, which GitHub never links), and bidirectional overrides and control characters are
shown as their code points, so text cannot be made to read differently from what it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any
from urllib.parse import quote

from registry_guard.catalogue.rule import all_rules
from registry_guard.catalogue.severity import MOST_SEVERE_FIRST, is_severity, severity_rank

from .. import __version__
from ..report import Report, ReportFinding
from .options import DEFAULT, RenderOptions
from .verdict import verdict

NAME = "markdown"
SUFFIX = ".md"

GITHUB_COMMENT_LIMIT = 65_536
MAX_CHARS = 65_000  # a little under the limit, for the wrapper a bot may add
CELL_LIMIT = 400  # one huge message must not eat the table

STATUS_ICON = {"compliant": "🟢", "passes": "🟢", "non-compliant": "🔴", "blocked": "🔴", "incomplete": "🟠"}
SEVERITY_ICON = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦"}
OPEN_SEVERITIES = ("critical", "high")  # their sections start expanded
TREND = {"new": "🆕 new", "still-open": "still open"}
WAIVER_STATUS = {"active": "✅ active", "expired": "⚠️ expired", "unused": "💤 unused"}

# Enough to stop emphasis, links, code and table breaks; `<` and `&` are HTML-escaped instead.
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MENTION = re.compile(r"(?<![\w@])@(?=\w)")
# What GitHub would turn into a link on its own: scheme://... and www....
_BARE_URL = re.compile(r"(?i)(?<![\w.-])(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>\"'`|]+")
# Bidirectional embeddings, overrides and isolates, and the marks: text that reorders what follows it.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def neutral(text: Any) -> str:
    """Control characters (other than whitespace) and bidirectional controls as visible `[U+XXXX]`."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(f"[U+{ord(c):04X}]" if c in _BIDI or (unicodedata.category(c) == "Cc" and not c.isspace())
                   else c for c in value)


def _one_line(text: Any, limit: int | None) -> str:
    value = " ".join(neutral(text).split())  # one line: a newline would end the table row
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return value


def _inert(value: str) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;")
    value = _SPECIAL.sub(r"\\\1", value)
    # A zero-width space after @ keeps GitHub from notifying a user or team named in the data.
    return _MENTION.sub("@&#8203;", value)


def escape(text: Any, limit: int | None = CELL_LIMIT) -> str:
    """Registry text as inert Markdown: no HTML, no formatting, no table breaks, no @mentions, no links."""
    value = _one_line(text, limit)
    out, last = [], 0
    for url in _BARE_URL.finditer(value):
        out += [_inert(value[last:url.start()]), _fence(url.group())]
        last = url.end()
    out.append(_inert(value[last:]))
    return "".join(out)


def code(text: Any, limit: int | None = CELL_LIMIT) -> str:
    """A code span: shown verbatim (no escapes needed but the table pipe), fenced past any backticks."""
    return _fence(_one_line(text, limit))


def _fence(value: str) -> str:
    value = value.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def budget_table(header: Sequence[str], rows: Sequence[Sequence[str]], budget: int, noun: str) -> str:
    """A Markdown table of as many rows as fit in `budget` characters, then how many were left out."""
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
        lines += ["", not_shown(len(rows) - shown, noun)]
    return "\n".join(lines)


def not_shown(count: int, noun: str) -> str:
    return f"_… {count} more {noun} not shown here (GitHub comment size limit); see the full report._"


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
    if target.get("stack"):
        parts.append(f"stack {code(target['stack'])}")
    return ", ".join(parts) or "the configured registries"


def _rank(severity: str) -> int:
    return severity_rank(severity) if is_severity(severity) else 0


def _location(location: str, options: RenderOptions) -> str:
    """`path#line[,col]` as a link to that line (with `--source-url`), else as code."""
    location = location.removeprefix("project:///")
    path, _, position = location.partition("#")
    line = position.split(",")[0]
    if options.source_url is None or not path or (line and not line.isdigit()) or path.startswith("/"):
        return code(location, 200)
    href = options.source_url.rstrip("/") + "/" + quote(options.repository_path(path), safe="/._-~")
    if line:
        href += f"#L{line}"
    return f"[{escape(location, 200)}]({href})"


def _where(f: ReportFinding, options: RenderOptions) -> str:
    parts = []
    config = f.evidence.get("stack_config")
    if isinstance(config, Mapping) and isinstance(config.get("file"), str):
        set_at = f"{config['file']}#{config.get('line', 1)}"
        parts.append(f"set at {_location(set_at, options)}")
    if f.source_location:
        parts.append(_location(f.source_location, options))
    return " · ".join(parts)


def _status(f: ReportFinding) -> str:
    parts = []
    level = f.evidence.get("enforcementLevel")
    if level in ("mandatory", "advisory"):
        parts.append("⛔ blocks `pulumi up`" if level == "mandatory" and not f.waived else escape(level))
    if f.waiver:
        parts.append(f"waived until {escape(f.waiver.expires)}")
    if f.trend:
        parts.append(TREND.get(f.trend, escape(f.trend)))
    return " · ".join(parts)


def _finding_row(f: ReportFinding, options: RenderOptions) -> list[str]:
    return [code(f.resource), escape(f.message), _where(f, options), _status(f)]


def _by_rule(findings: Sequence[ReportFinding]) -> dict[str, list[ReportFinding]]:
    """Rule -> its findings, most severe rule first, then the most findings, then by id."""
    groups: dict[str, list[ReportFinding]] = {}
    for f in findings:
        groups.setdefault(f.rule_id, []).append(f)
    order = sorted(groups, key=lambda r: (-_rank(groups[r][0].severity), -len(groups[r]), r))
    return {r: groups[r] for r in order}


def _head(report: Report, summary: Mapping[str, Any]) -> str:
    judged = verdict(report)
    when = report.generated_at.astimezone(UTC) if report.generated_at.tzinfo else report.generated_at
    counts = " · ".join(f"{summary['by_severity'][s]} {s}" for s in MOST_SEVERE_FIRST if summary["by_severity"][s])
    lines = [
        f"## {STATUS_ICON[judged.status]} Model Registry Guard: {judged.label}",
        "",
        f"**{summary['total']} finding(s)**" + (f" ({counts})" if counts else "")
        + (f", {summary['waived']} waived" if summary.get("waived") else "")
        + f" · {report.kind} of {_target(report.target)} · {when:%Y-%m-%d %H:%M} UTC · model-registry-guard "
        f"{escape(__version__)}",
        "",
        escape(judged.meaning, None),
    ]
    if report.errors:
        lines += ["", "> [!CAUTION]",
                  f"> **The scan could not read everything** ({len(report.errors)} error(s)): findings below are "
                  "incomplete and this report cannot say compliant.", ">"]
        for e in report.errors[:20]:
            lines.append(f"> - **{escape(e.source)}** {code(e.target, 200)}: {escape(e.message, 300)}")
        if len(report.errors) > 20:
            lines.append(f"> - … and {len(report.errors) - 20} more (see the full report)")
    trend = summary.get("trend")
    if trend:
        lines += ["", f"Since the previous scan: **{trend['new']} new**, {trend['still_open']} still open, "
                      f"**{trend['resolved']} resolved**."]
    expired = [w for w in report.waivers if w.status == "expired"]
    if expired:
        lines += ["", f"> [!WARNING]\n> {len(expired)} waiver(s) expired: their findings count again."]
    return "\n".join(lines)


def _rollup(groups: Mapping[str, Sequence[ReportFinding]]) -> str:
    rows = []
    for rule_id, findings in groups.items():
        severity = findings[0].severity
        rows.append([f"{code(rule_id)} {escape(findings[0].title, 120)}",
                     f"{SEVERITY_ICON.get(severity, '')} {escape(severity)}", str(len(findings)),
                     str(sum(1 for f in findings if f.waived)), str(sum(1 for f in findings if f.trend == "new"))])
    header = "| Rule | Severity | Findings | Waived | New |\n|:---|:---|---:|---:|---:|"
    return "### Findings by rule\n\n" + header + "\n" + "\n".join(_row(r) for r in rows)


def _rule_head(rule_id: str, findings: Sequence[ReportFinding]) -> str:
    first = findings[0]
    rule = all_rules().get(rule_id)
    lines = [f"#### {code(rule_id)} {escape(first.title, 200)} ({len(findings)})", ""]
    if first.remediation:
        lines += ["**Remediation**", "", *(f"- {escape(step, 600)}" for step in first.remediation), ""]
    if first.frameworks:
        lines += [f"Frameworks: {escape('; '.join(first.frameworks), 600)}", ""]
    if rule is not None and rule.url.startswith("https://"):
        lines += [f"[Documentation for {escape(rule_id)}]({quote(rule.url, safe=':/?#=&._-~%')})", ""]
    return "\n".join(lines)


FINDINGS_HEADER = ("Resource", "Finding", "Declared at", "Status")


def _sections(groups: Mapping[str, Sequence[ReportFinding]], budget: int, options: RenderOptions) -> str:
    """One `<details>` per severity; every rule's heading and remediation always, rows while they fit."""
    by_severity: dict[str, list[str]] = {}
    for rule_id, findings in groups.items():
        by_severity.setdefault(findings[0].severity, []).append(rule_id)
    header = _row(FINDINGS_HEADER) + "\n" + "|" + "|".join(":---" for _ in FINDINGS_HEADER) + "|"
    note_room = 120
    skeleton = {rule_id: _rule_head(rule_id, groups[rule_id]) for rule_id in groups}
    fixed = sum(len(s) + len(header) + note_room + 4 for s in skeleton.values()) + 200 * len(by_severity)
    left = budget - fixed
    parts = []
    for severity, rule_ids in by_severity.items():
        count = sum(len(groups[r]) for r in rule_ids)
        opened = " open" if severity in OPEN_SEVERITIES else ""
        section = [f"<details{opened}><summary><strong>{SEVERITY_ICON.get(severity, '')} {escape(severity)}: "
                   f"{count} finding(s)</strong></summary>", ""]
        for rule_id in rule_ids:
            section += [skeleton[rule_id], header]
            shown = 0
            for f in groups[rule_id]:
                line = _row(_finding_row(f, options))
                if len(line) + 1 > left:
                    break
                section.append(line)
                left -= len(line) + 1
                shown += 1
            if shown < len(groups[rule_id]):
                section += ["", not_shown(len(groups[rule_id]) - shown, "findings")]
            section.append("")
        section.append("</details>")
        parts.append("\n".join(section))
    return "\n\n".join(parts)


def render(report: Report, max_chars: int = MAX_CHARS, *, options: RenderOptions = DEFAULT) -> str:
    summary = report.summary()
    head = _head(report, summary)
    tail = (f"<sub>Rules evaluated: {len(report.rules_evaluated)} · re-render with "
            "`registry-guard report REPORT.json --format FORMAT`</sub>")

    # Side tables first, each with a capped share, so the findings know what is left.
    side: list[str] = []
    if report.waivers:
        rows = [[WAIVER_STATUS.get(w.status, escape(w.status)), code(w.rule_id), code(w.resource),
                 escape(w.owner), escape(w.expires), str(w.matched), escape(w.justification)]
                for w in report.waivers]
        side.append("### Waivers\n\n" + budget_table(
            ["Status", "Rule", "Resource", "Owner", "Expires", "Matched", "Justification"], rows, 10_000, "waivers"))
    if report.resolved:
        rows = [[f"{SEVERITY_ICON.get(f.severity, '')} {escape(f.severity)}", code(f.rule_id),
                 code(f.resource), escape(f.message)] for f in report.resolved]
        side.append(f"### ✅ Resolved since the previous scan ({len(report.resolved)})\n\n" + budget_table(
            ["Severity", "Rule", "Resource", "Was"], rows, 8_000, "resolved findings"))
    if report.access:
        from .access_markdown import section

        side.append(section(report, 15_000))
    if report.releases is not None:
        from .releases_markdown import section as release_section

        side.append(release_section(report, 12_000))
    if report.undetermined:
        rows = [[code(u.rule_id), code(u.resource), escape(u.reason)] for u in report.undetermined]
        side.append(f"### Undetermined ({len(report.undetermined)})\n\n" + budget_table(
            ["Rule", "Resource", "Why"], rows, 5_000, "undetermined checks"))

    if report.findings:
        groups = _by_rule(report.findings)
        rollup = _rollup(groups)
        fixed = len(head) + len(rollup) + len(tail) + sum(len(s) + 2 for s in side) + 300
        findings = (f"{rollup}\n\n### Findings ({len(report.findings)})\n\n"
                    + _sections(groups, max_chars - fixed, options))
    else:
        findings = "### Findings\n\nNo findings."
    text = "\n\n".join([head, findings, *side, tail]) + "\n"
    if len(text) > max_chars:  # only reachable with absurd error or rule lists; never exceed the limit
        text = text[: max_chars - 80] + "\n\n_… truncated (GitHub comment size limit); see the full report._\n"
    return text
