"""One self-contained HTML report: styles, script and charts inline, nothing fetched.

A Content-Security-Policy meta tag forbids every network fetch, so the file can be opened from a
bucket or a CI artifact safely. The script only filters (text, severity, rule, waived, new only) and
sorts rows, and keeps the filter in the address's hash (`#severity=high&new=only`), both ways: a link
opens pre-filtered, and a hash changed later (the back button, another link) filters again. With
JavaScript off every finding is shown and the controls stay hidden.

The findings table never scrolls sideways: its columns have fixed shares of the width and any long word
(a digest, a URL) wraps, so the status column is always on screen; below 720 px each finding is a card.
Every piece of report text goes through `html.escape`. Stable ids and data attributes (`#finding-count`,
`rect[data-severity][data-count]`, `tr.finding`) let tests and scripts read the numbers from the DOM.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from registry_guard.catalogue.rule import all_rules
from registry_guard.catalogue.severity import MOST_SEVERE_FIRST, is_severity, severity_rank

from .. import __version__
from ..report import Report, ReportFinding, Waiver
from . import access_html, releases_html
from .verdict import verdict

NAME = "html"
SUFFIX = ".html"

# The banner's colour for each verdict (formats.verdict): a check that passes the pack is green.
BANNER_CLASS = {"compliant": "compliant", "passes": "compliant", "non-compliant": "non-compliant",
                "blocked": "non-compliant", "incomplete": "incomplete"}
TREND_TEXT = {"new": "new", "still-open": "still open"}
OPEN_REPOSITORY_LIMIT = 8  # repositories with more images start collapsed


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _safe_url(url: str) -> str | None:
    """Only web links become hrefs (a javascript: URL in the data must never be clickable)."""
    return url if url.startswith(("https://", "http://")) else None


def _when(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# ---------------------------------------------------------------------------------------------- charts


def _bar_chart(chart_id: str, title: str, bars: Sequence[tuple[str, int, str, dict[str, str]]],
               label_width: int, width: int = 620) -> str:
    """Horizontal bars: (label, count, css class, data attributes). Built here, not by a chart library."""
    bar_h, gap, top = 22, 10, 8
    plot = width - label_width - 50
    height = top * 2 + max(1, len(bars)) * (bar_h + gap) - gap
    peak = max((count for _, count, _, _ in bars), default=0) or 1
    parts = [f'<svg id="{_e(chart_id)}" class="chart" role="img" aria-labelledby="{_e(chart_id)}-title" '
             f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
             f'xmlns="http://www.w3.org/2000/svg"><title id="{_e(chart_id)}-title">{_e(title)}</title>']
    for i, (label, count, css, data) in enumerate(bars):
        y = top + i * (bar_h + gap)
        w = round(plot * count / peak, 1) if count else 0
        attrs = "".join(f' data-{_e(k)}="{_e(v)}"' for k, v in data.items())
        parts.append(
            f'<text class="bar-label" x="{label_width - 10}" y="{y + bar_h / 2}" text-anchor="end" '
            f'dominant-baseline="central">{_e(label)}</text>'
            f'<rect class="track" x="{label_width}" y="{y}" width="{plot}" height="{bar_h}" rx="4"/>'
            f'<rect class="bar {_e(css)}" x="{label_width}" y="{y}" width="{w}" height="{bar_h}" rx="4"'
            f'{attrs} data-count="{count}"><title>{_e(label)}: {count}</title></rect>'
            f'<text class="bar-value" x="{label_width + w + 8}" y="{y + bar_h / 2}" '
            f'dominant-baseline="central">{count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _rank(severity: str) -> int:
    """The catalogue's rank; 0 for a severity it does not know, so that sorts after every known one."""
    return severity_rank(severity) if is_severity(severity) else 0


def _charts(report: Report) -> str:
    by_sev = Counter(f.severity for f in report.findings)
    sev_bars: list[tuple[str, int, str, dict[str, str]]] = [
        (s, by_sev.get(s, 0), f"sev-{s}", {"severity": s}) for s in MOST_SEVERE_FIRST]
    by_rule = Counter(f.rule_id for f in report.findings)
    rule_sev = {f.rule_id: f.severity for f in report.findings}
    ordered = sorted(by_rule, key=lambda r: (-by_rule[r], -_rank(rule_sev[r]), r))
    rule_bars = [(r, by_rule[r], f"sev-{rule_sev[r]}", {"rule": r, "rule-severity": rule_sev[r]}) for r in ordered]
    rule_chart = (_bar_chart("chart-rule", "Findings by rule", rule_bars, 230) if rule_bars
                  else '<p class="muted">No findings.</p>')
    return (
        '<section id="charts" class="grid-2">'
        f'<figure class="card"><figcaption>Findings by severity</figcaption>'
        f'{_bar_chart("chart-severity", "Findings by severity", sev_bars, 80, 400)}</figure>'
        f'<figure class="card"><figcaption>Findings by rule</figcaption>{rule_chart}</figure>'
        "</section>"
    )


# ------------------------------------------------------------------------------------------- sections


def _badge(severity: str) -> str:
    return f'<span class="badge sev-{_e(severity)}">{_e(severity)}</span>'


def _summary_cards(report: Report, summary: Mapping[str, Any]) -> str:
    cards = [f'<div class="stat total"><span class="num" id="finding-count">{summary["total"]}</span>'
             '<span class="lbl">findings</span></div>']
    for s in MOST_SEVERE_FIRST:
        n = summary["by_severity"][s]
        cards.append(f'<div class="stat sev-{s}{" zero" if not n else ""}" data-severity="{s}">'
                     f'<span class="num" id="count-{s}">{n}</span><span class="lbl">{s}</span></div>')
    cards.append(f'<div class="stat"><span class="num" id="waived-count">{summary.get("waived", 0)}</span>'
                 '<span class="lbl">waived</span></div>')
    cards.append(f'<div class="stat{" alert" if report.errors else ""}"><span class="num" id="error-count">'
                 f'{len(report.errors)}</span><span class="lbl">read errors</span></div>')
    trend = summary.get("trend")
    extra = ""
    if trend:
        extra = (f'<p class="trend" id="trend">Since the previous scan: <strong id="trend-new">{trend["new"]}</strong>'
                 f' new, <strong id="trend-still-open">{trend["still_open"]}</strong> still open, '
                 f'<strong id="trend-resolved">{trend["resolved"]}</strong> resolved.</p>')
    return f'<section id="summary"><div class="stats">{"".join(cards)}</div>{extra}</section>'


def _errors(report: Report) -> str:
    if not report.errors:
        return ""
    rows = "".join(
        f'<tr class="scan-error"><td>{_e(e.source)}</td><td class="mono wrap">{_e(e.target)}</td>'
        f"<td>{_e(e.message)}</td></tr>" for e in report.errors)
    return (
        '<section id="errors" class="callout warn"><h2>The scan could not read everything</h2>'
        f"<p>{len(report.errors)} source(s) failed. Findings below cover only what was read; a resource that "
        "could not be read may hide more problems.</p>"
        f'<table><thead><tr><th>Source</th><th>Target</th><th>Error</th></tr></thead><tbody>{rows}</tbody>'
        "</table></section>"
    )


def _evidence(evidence: Mapping[str, Any]) -> str:
    if not evidence:
        return ""
    items = "".join(
        f"<dt>{_e(k)}</dt><dd class=\"mono wrap\">"
        f"{_e(v if isinstance(v, str) else json.dumps(v, default=str))}</dd>"
        for k, v in evidence.items())
    return f'<dl class="evidence">{items}</dl>'


def _remediation(f: ReportFinding) -> str:
    rule = all_rules().get(f.rule_id)
    steps = "".join(f"<li>{_e(step)}</li>" for step in f.remediation)
    frameworks = "".join(f"<li>{_e(ref)}</li>" for ref in f.frameworks)
    link = ""
    if rule and rule.url and _safe_url(rule.url):
        link = f'<p><a href="{_e(rule.url)}" rel="noopener noreferrer">Documentation for {_e(f.rule_id)}</a></p>'
    description = f"<p>{_e(rule.description)}</p>" if rule else ""
    return (
        '<details class="remediation"><summary>Remediation &amp; evidence</summary>'
        f'{description}<ol class="steps">{steps}</ol>'
        + (f'<p class="sub">Frameworks</p><ul class="frameworks">{frameworks}</ul>' if frameworks else "")
        + (f'<p class="sub">Evidence</p>{_evidence(f.evidence)}' if f.evidence else "")
        + link + "</details>"
    )


def _finding_row(i: int, f: ReportFinding) -> str:
    status = []
    if f.waiver:
        status.append(f'<span class="pill waived" title="{_e(f.waiver.justification)}">waived until '
                      f"{_e(f.waiver.expires)}</span>")
    if f.trend:
        status.append(f'<span class="pill trend-{_e(f.trend)}">{_e(TREND_TEXT.get(f.trend, f.trend))}</span>')
    level = f.evidence.get("enforcementLevel")
    if level == "mandatory" and not f.waived:
        status.append('<span class="pill blocks">blocks pulumi up</span>')
    elif level == "advisory":
        status.append('<span class="pill advisory">advisory</span>')
    location = (f'<div class="where">declared at <code>{_e(f.source_location)}</code></div>'
                if f.source_location else "")
    config = f.evidence.get("stack_config")
    if isinstance(config, Mapping) and config.get("file"):
        location = (f'<div class="where">set at <code>{_e(config["file"])}#{_e(config.get("line", ""))}</code>'
                    f"</div>{location}")
    waiver_note = (f'<div class="waiver-note">Waived by {_e(f.waiver.owner)}: {_e(f.waiver.justification)}</div>'
                   if f.waiver else "")
    search = " ".join([f.rule_id, f.title, f.severity, f.resource, f.message]).lower()
    # data-order: the sort key of the status column (unwaived new first, waived last).
    order = (2 if f.waived else 0) + (0 if f.trend == "new" else 1)
    return (
        f'<tr class="finding{" is-waived" if f.waived else ""}" id="finding-{i}" data-index="{i}" '
        f'data-severity="{_e(f.severity)}" data-rank="{_rank(f.severity)}" data-rule="{_e(f.rule_id)}" '
        f'data-resource="{_e(f.resource)}" data-waived="{str(f.waived).lower()}" data-trend="{_e(f.trend or "")}" '
        f'data-order="{order}" data-fingerprint="{_e(f.fingerprint)}" data-search="{_e(search)}">'
        f'<td class="severity" data-label="Severity">{_badge(f.severity)}</td>'
        f'<td class="rule" data-label="Rule"><div class="rule-id mono">{_e(f.rule_id)}</div>'
        f'<div class="muted small">{_e(f.title)}</div></td>'
        f'<td class="mono resource" data-label="Resource">{_e(f.resource)}</td>'
        f'<td class="message" data-label="Finding"><div>{_e(f.message)}</div>{location}{waiver_note}'
        f"{_remediation(f)}</td>"
        f'<td class="status" data-label="Status">{"".join(status)}</td></tr>'
    )


# (column class, header, sort key): the keys the script sorts by.
COLUMNS = (("severity", "Severity", "rank"), ("rule", "Rule", "rule"), ("resource", "Resource", "resource"),
           ("message", "Finding", ""), ("status", "Status", "order"))


def _findings(report: Report) -> str:
    if not report.findings:
        return ('<section id="findings"><h2>Findings</h2><p class="empty">No findings.</p>'
                '<table id="findings-table" hidden><tbody></tbody></table></section>')
    rules = sorted({f.rule_id for f in report.findings})
    sev_options = "".join(f'<option value="{s}">{s}</option>' for s in MOST_SEVERE_FIRST)
    rule_options = "".join(f'<option value="{_e(r)}">{_e(r)}</option>' for r in rules)
    rows = "".join(_finding_row(i, f) for i, f in enumerate(report.findings))
    new = sum(1 for f in report.findings if f.trend == "new")
    # `hidden` until the script runs: without JS there is nothing to filter with and every row shows.
    controls = (
        '<div class="filters" id="filters" hidden>'
        '<input type="search" id="filter-text" placeholder="Search resource, message, rule…" '
        'aria-label="Search findings">'
        f'<select id="filter-severity" aria-label="Severity"><option value="">All severities</option>{sev_options}'
        "</select>"
        f'<select id="filter-rule" aria-label="Rule"><option value="">All rules</option>{rule_options}</select>'
        '<label class="check"><input type="checkbox" id="filter-waived" checked> show waived</label>'
        f'<label class="check"><input type="checkbox" id="filter-new"{"" if new else " disabled"}> new only '
        f'<span class="muted">({new})</span></label>'
        f'<span class="muted">Showing <strong id="visible-count">{len(report.findings)}</strong> of '
        f"{len(report.findings)}</span></div>"
    )
    cols = "".join(f'<col class="col-{name}">' for name, _, _ in COLUMNS)
    heads = "".join(
        (f'<th class="{name}" scope="col" data-sort="{key}" aria-sort="none"><button type="button" class="sort" '
         f'disabled>{label}</button></th>' if key else f'<th class="{name}" scope="col">{label}</th>')
        for name, label, key in COLUMNS)
    return (
        f'<section id="findings"><h2>Findings <span class="muted">({len(report.findings)})</span></h2>{controls}'
        f'<div class="table-wrap"><table id="findings-table"><colgroup>{cols}</colgroup><thead><tr>{heads}</tr>'
        f'</thead><tbody>{rows}</tbody></table></div>'
        '<p id="no-match" class="empty" hidden>No finding matches the filter.</p></section>'
    )


def _resolved(report: Report) -> str:
    if not report.resolved:
        return ""
    rows = "".join(
        f'<tr class="resolved-finding" data-rule="{_e(f.rule_id)}"><td>{_badge(f.severity)}</td>'
        f'<td class="mono">{_e(f.rule_id)}</td><td class="mono wrap">{_e(f.resource)}</td><td>{_e(f.message)}</td>'
        "</tr>" for f in report.resolved)
    return (f'<section id="resolved"><h2>Resolved since the previous scan <span class="muted">'
            f"({len(report.resolved)})</span></h2><table><thead><tr><th>Severity</th><th>Rule</th>"
            f"<th>Resource</th><th>Was</th></tr></thead><tbody>{rows}</tbody></table></section>")


def _waiver_row(w: Waiver) -> str:
    return (f'<tr class="waiver" data-status="{_e(w.status)}"><td><span class="pill waiver-{_e(w.status)}">'
            f'{_e(w.status)}</span></td><td class="mono">{_e(w.rule_id)}</td><td class="mono wrap">'
            f"{_e(w.resource)}</td><td>{_e(w.owner)}</td><td>{_e(w.expires)}</td><td class=\"num\">{w.matched}</td>"
            f"<td>{_e(w.justification)}</td></tr>")


def _waivers(report: Report) -> str:
    if not report.waivers:
        return ""
    rows = "".join(_waiver_row(w) for w in report.waivers)
    return ('<section id="waivers"><h2>Waivers</h2><table><thead><tr><th>Status</th><th>Rule</th>'
            "<th>Resource</th><th>Owner</th><th>Expires</th><th>Matched</th><th>Justification</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></section>")


def _undetermined(report: Report) -> str:
    if not report.undetermined:
        return ""
    rows = "".join(f'<tr><td class="mono">{_e(u.rule_id)}</td><td class="mono wrap">{_e(u.resource)}</td>'
                   f"<td>{_e(u.reason)}</td></tr>" for u in report.undetermined)
    return ('<section id="undetermined"><h2>Could not be judged</h2><table><thead><tr><th>Rule</th>'
            f"<th>Resource</th><th>Why</th></tr></thead><tbody>{rows}</tbody></table></section>")


def _value(value: Any) -> str:
    if value is None:
        return '<span class="muted">unknown</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        if not value:
            return '<span class="muted">none</span>'
        return "<br>".join(f"{_e(k)}={_e(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, Mapping) and "action" in v for v in value):
            return "<br>".join(_e(_policy(v)) for v in value)
        if not value:
            return '<span class="muted">none</span>'
        return "<br>".join(_e(v if isinstance(v, str) else json.dumps(v, default=str)) for v in value)
    return _e(value)


def _policy(policy: Mapping[str, Any]) -> str:
    """A cleanup policy as one readable line: `keep-versions: KEEP tag_state=TAGGED, tag_prefixes=v`."""
    parts = []
    for part in (policy.get("condition"), policy.get("most_recent_versions")):
        if isinstance(part, Mapping):
            parts += [f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
                      for k, v in part.items() if v not in (None, [], {}, "")]
    return f"{policy.get('id', '?')}: {policy.get('action', '?')} " + ", ".join(parts)


def _repository(repo: Mapping[str, Any]) -> str:
    images: list[Mapping[str, Any]] = list(repo.get("images") or ())
    tags = sum(len(i.get("tags") or ()) for i in images)
    settings = repo.get("settings")
    settings_html = ""
    if isinstance(settings, Mapping):
        settings_html = '<dl class="settings">' + "".join(
            f"<dt>{_e(k.replace('_', ' '))}</dt><dd class=\"wrap\">{_value(v)}</dd>" for k, v in settings.items()
        ) + "</dl>"
    rows = "".join(
        f'<tr class="image"><td class="mono">{_e(i.get("package"))}</td>'
        f'<td class="mono digest" title="{_e(i.get("digest"))}">{_e((i.get("digest") or "")[:19])}</td>'
        f'<td>{"".join(f"<span class=tag>{_e(t)}</span>" for t in i.get("tags") or ()) or _value(None)}</td>'
        f'<td class="num">{_size(i.get("size_bytes"))}</td><td>{_e(i.get("uploaded") or "")}</td></tr>'
        for i in images)
    table = (f'<table class="images"><thead><tr><th>Package</th><th>Digest</th><th>Tags</th><th>Size</th>'
             f"<th>Uploaded</th></tr></thead><tbody>{rows}</tbody></table>" if images else
             '<p class="muted">No images.</p>')
    is_open = " open" if len(images) <= OPEN_REPOSITORY_LIMIT else ""
    return (f'<details class="repository" data-images="{len(images)}"{is_open}><summary><span class="mono">'
            f'{_e(repo.get("name"))}</span> <span class="muted">{len(images)} image(s), {tags} tag(s)</span>'
            f"</summary>{settings_html}{table}</details>")


def _size(size: Any) -> str:
    if not isinstance(size, int):
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return ""


def _inventory(report: Report) -> str:
    inv = report.inventory or {}
    repos: list[Mapping[str, Any]] = list(inv.get("repositories") or ())
    buckets: list[Mapping[str, Any]] = list(inv.get("buckets") or ())
    legacy: list[str] = list(inv.get("legacy_registries") or ())
    facts = (f'<p class="facts"><strong id="inventory-repositories">{len(repos)}</strong> repositories · '
             f'<strong id="inventory-images">{_e(inv.get("images", 0))}</strong> images · '
             f'<strong id="inventory-tags">{_e(inv.get("tags", 0))}</strong> tags · '
             f"<strong>{len(buckets)}</strong> buckets · <strong>{_e(inv.get('iam_grants', 0))}</strong> IAM grants"
             "</p>")
    bucket_html = ""
    if buckets:
        rows = "".join(
            f'<tr><td class="mono wrap">{_e(b.get("name"))}</td><td>{_value(b.get("uniform_access"))}</td>'
            f'<td>{_value(b.get("public_access_prevention"))}</td><td>{_value(b.get("container_registry"))}</td></tr>'
            for b in buckets)
        bucket_html = ("<h3>Buckets</h3><table><thead><tr><th>Bucket</th><th>Uniform access</th>"
                       "<th>Public access prevention</th><th>Container Registry</th></tr></thead>"
                       f"<tbody>{rows}</tbody></table>")
    legacy_html = ("<h3>Container Registry (legacy)</h3><ul>" + "".join(
        f'<li class="mono">{_e(name)}</li>' for name in legacy) + "</ul>") if legacy else ""
    return (f'<section id="inventory"><h2>Inventory</h2>{facts}<h3>Repositories</h3>'
            f'{"".join(_repository(r) for r in repos) or "<p class=muted>None.</p>"}{bucket_html}{legacy_html}'
            "</section>")


def _flatten(prefix: str, value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _flatten(f"{prefix}.{k}" if prefix else str(k), v)
    else:
        yield prefix, value


def _metadata(report: Report, summary: Mapping[str, Any]) -> str:
    rows = [("Generated", _e(_when(report.generated_at))), ("Kind", _e(report.kind)),
            ("Tool", f"model-registry-guard {_e(__version__)}"),
            ("Complete", "yes" if report.complete else '<strong class="bad">no</strong>'),
            ("Status", _e(summary["status"])), ("Rules evaluated", _e(", ".join(report.rules_evaluated)))]
    rows += [(f"Target {k}", _value(v)) for k, v in _flatten("", report.target)]
    rows += [(f"History {k}", _value(v)) for k, v in _flatten("", report.history)]
    meta = "".join(f"<tr><th>{_e(k)}</th><td class=\"wrap\">{v}</td></tr>" for k, v in rows)
    timings = "".join(f'<tr><td class="mono wrap">{_e(k)}</td><td class="num">{float(v):.3f} s</td></tr>'
                      for k, v in sorted(report.timings.items(), key=lambda kv: (kv[0] == "total", kv[0])))
    timing_table = (f'<table id="timings" class="narrow"><thead><tr><th>Step</th><th>Time</th></tr></thead>'
                    f"<tbody>{timings}</tbody></table>" if timings else "")
    return (f'<section id="metadata"><h2>Scan</h2><div class="grid-meta"><table class="meta">{meta}</table>'
            f"<div>{timing_table}</div></div></section>")


# ------------------------------------------------------------------------------------------- assembly

_CSS = """
:root{--critical:#b42318;--high:#c4320a;--medium:#b54708;--medium-bg:#fef0c7;--low:#1d4ed8;--ok:#067647;
--warn:#b54708;--ink:#101828;--muted:#667085;--line:#e4e7ec;--bg:#f8fafc;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",
Roboto,"Helvetica Neue",Arial,"Noto Sans","DejaVu Sans",sans-serif}
main{max-width:1240px;margin:0 auto;padding:0 24px 48px}
.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.88em}
.wrap{overflow-wrap:anywhere}
.muted{color:var(--muted)}.small{font-size:.85em}
h1{font-size:28px;margin:0;letter-spacing:-.01em}h2{font-size:20px;margin:36px 0 12px}
h3{font-size:16px;margin:20px 0 8px}
.banner{color:#fff;padding:28px 0 24px;margin-bottom:24px}
.banner .inner{max-width:1240px;margin:0 auto;padding:0 24px}
.banner.status-non-compliant{background:linear-gradient(135deg,#b42318,#912018)}
.banner.status-compliant{background:linear-gradient(135deg,#067647,#05603a)}
.banner.status-incomplete{background:linear-gradient(135deg,#dc6803,#b54708)}
.banner .kicker{text-transform:uppercase;letter-spacing:.08em;font-size:12px;opacity:.85;font-weight:600}
.banner p{margin:6px 0 0;opacity:.95}
.stats{display:flex;flex-wrap:wrap;gap:12px}
.stat{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 18px;min-width:110px;
border-top:4px solid var(--line)}
.stat .num{display:block;font-size:28px;font-weight:700;line-height:1.1}
.stat .lbl{color:var(--muted);font-size:13px;text-transform:uppercase;letter-spacing:.04em}
.stat.total{border-top-color:var(--ink)}
.stat.sev-critical{border-top-color:var(--critical)}.stat.sev-critical .num{color:var(--critical)}
.stat.sev-high{border-top-color:var(--high)}.stat.sev-high .num{color:var(--high)}
.stat.sev-medium{border-top-color:#eaaa08}.stat.sev-medium .num{color:var(--medium)}
.stat.sev-low{border-top-color:var(--low)}.stat.sev-low .num{color:var(--low)}
.stat.zero .num{color:var(--muted)}.stat.alert{border-top-color:var(--warn)}.stat.alert .num{color:var(--warn)}
.trend{margin:12px 0 0}
.grid-2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.4fr);gap:16px;margin-top:20px}
.grid-meta{display:grid;grid-template-columns:minmax(0,1.6fr) minmax(0,1fr);gap:16px;align-items:start}
@media (max-width:900px){.grid-2,.grid-meta{grid-template-columns:1fr}}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;margin:0;
align-self:start}
figcaption{font-weight:600;margin-bottom:8px}
.chart{display:block;max-width:100%;height:auto;font-size:13px}
.chart .track{fill:#f2f4f7}.chart .bar-label{fill:var(--ink)}.chart .bar-value{fill:var(--muted);font-weight:600}
.chart .sev-critical{fill:var(--critical)}.chart .sev-high{fill:var(--high)}.chart .sev-medium{fill:#eaaa08}
.chart .sev-low{fill:var(--low)}
.callout{border-radius:10px;padding:4px 20px 14px;margin-top:20px}
.callout.warn{background:#fffaeb;border:1px solid #fedf89;border-left:6px solid var(--warn)}
.callout h2{margin-top:14px;color:var(--warn)}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:10px;
overflow:hidden}
th,td{text-align:left;vertical-align:top;padding:9px 12px;border-bottom:1px solid var(--line)}
thead th{background:#f2f4f7;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#475467}
tbody tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right}
#findings-table{table-layout:fixed}
#findings-table col.col-severity{width:104px}#findings-table col.col-rule{width:19%}
#findings-table col.col-resource{width:23%}#findings-table col.col-status{width:150px}
#findings-table td,#findings-table th{overflow-wrap:anywhere;word-break:break-word;min-width:0}
#findings-table td.status .pill{white-space:normal}
#findings-table tr.is-waived{background:#f9fafb}#findings-table tr.is-waived .message>div:first-child{color:#475467}
#findings-table th button.sort{all:unset;cursor:pointer;text-transform:inherit;letter-spacing:inherit}
#findings-table th button.sort:focus-visible{outline:2px solid var(--low);outline-offset:2px}
#findings-table th button.sort::after{content:" ↕";color:#98a2b3}
#findings-table th[aria-sort=ascending] button.sort::after{content:" ▲";color:inherit}
#findings-table th[aria-sort=descending] button.sort::after{content:" ▼";color:inherit}
#findings-table pre,#findings-table code,#findings-table dd{overflow-wrap:anywhere;white-space:normal}
@media (max-width:720px){
main{padding:0 12px 32px}.banner .inner{padding:0 12px}
#findings-table,#findings-table tbody,#findings-table tr,#findings-table td{display:block;width:100%}
#findings-table{border:0;background:none}
#findings-table thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
#findings-table colgroup{display:none}
#findings-table tr.finding{background:var(--card);border:1px solid var(--line);border-radius:10px;margin:0 0 12px;
padding:6px 0}
#findings-table tr.finding[hidden]{display:none}
#findings-table td{border:0;padding:4px 14px}
#findings-table td::before{content:attr(data-label);display:block;font-size:11px;text-transform:uppercase;
letter-spacing:.04em;color:var(--muted)}
dl{grid-template-columns:1fr}
/* The other tables (waivers, inventory, scan details) keep their rows and scroll inside their own box. */
main table:not(#findings-table){display:block;overflow-x:auto;max-width:100%}
}
.badge{display:inline-block;padding:2px 9px;border-radius:999px;font-size:12px;font-weight:700;color:#fff;
text-transform:uppercase;letter-spacing:.03em}
/* Badge text and background meet WCAG AA (4.5:1 for this small bold text); the tests measure it. */
.badge.sev-critical{background:var(--critical)}.badge.sev-high{background:var(--high)}
.badge.sev-medium{background:var(--medium-bg);color:var(--medium)}.badge.sev-low{background:#dbeafe;color:var(--low)}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;border:1px solid var(--line);
margin:0 4px 4px 0;white-space:nowrap;background:#fff}
.pill.waived,.pill.waiver-active{background:#ecfdf3;border-color:#abefc6;color:var(--ok)}
.pill.trend-new{background:#fef3f2;border-color:#fecdca;color:var(--critical);font-weight:600}
.pill.waiver-expired{background:#fef3f2;border-color:#fecdca;color:var(--critical)}
.pill.waiver-unused{background:#f2f4f7;color:var(--muted)}
.pill.blocks{background:#fef3f2;border-color:#fecdca;color:var(--critical);font-weight:600}
.pill.advisory{background:#f2f4f7;color:#475467}
.where,.waiver-note{font-size:13px;color:#475467;margin-top:4px}
details.remediation{margin-top:6px}
details.remediation summary{cursor:pointer;color:#1d4ed8;font-size:13px}
details.remediation ol,details.remediation ul{margin:6px 0;padding-left:20px}
.sub{font-weight:600;font-size:12px;text-transform:uppercase;color:var(--muted);margin:8px 0 2px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0}dt{color:var(--muted)}dd{margin:0}
.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin-bottom:12px}
.filters input[type=search]{flex:1 1 280px;padding:8px 12px;border:1px solid #d0d5dd;border-radius:8px;font:inherit}
.filters select{padding:8px;border:1px solid #d0d5dd;border-radius:8px;font:inherit;background:#fff}
.filters .check{font-size:14px}
.empty{padding:16px;background:var(--card);border:1px dashed var(--line);border-radius:10px;color:var(--muted)}
details.repository{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px;
margin-bottom:8px}
details.repository summary{cursor:pointer}
details.repository .settings{margin:10px 0}
.tag{display:inline-block;background:#eef4ff;color:#3538cd;border-radius:6px;padding:0 6px;margin:0 4px 2px 0;
font-size:12px;font-family:ui-monospace,Menlo,Consolas,monospace}
table.meta th{width:200px;background:#f9fafb;font-weight:600;font-size:13px;color:#475467}
table.narrow{max-width:460px}
.bad{color:var(--critical)}
footer{color:var(--muted);font-size:13px;margin-top:40px;border-top:1px solid var(--line);padding-top:12px}
@media print{.filters{display:none!important}details{display:block}.banner{-webkit-print-color-adjust:exact;
print-color-adjust:exact}}
"""

_SCRIPT = """
(function(){
  var table=document.getElementById('findings-table'), body=table&&table.tBodies[0];
  var rows=[].slice.call(document.querySelectorAll('#findings-table tr.finding'));
  var box=document.getElementById('filters'); if(!box||!rows.length) return;
  var text=document.getElementById('filter-text'), sev=document.getElementById('filter-severity'),
      rule=document.getElementById('filter-rule'), waived=document.getElementById('filter-waived'),
      fresh=document.getElementById('filter-new'), shown=document.getElementById('visible-count'),
      none=document.getElementById('no-match');
  function apply(){
    var q=text.value.trim().toLowerCase(), s=sev.value, r=rule.value, w=waived.checked, nw=fresh.checked, n=0;
    rows.forEach(function(tr){
      var ok=(!q||tr.getAttribute('data-search').indexOf(q)>=0)&&(!s||tr.getAttribute('data-severity')===s)
        &&(!r||tr.getAttribute('data-rule')===r)&&(w||tr.getAttribute('data-waived')!=='true')
        &&(!nw||tr.getAttribute('data-trend')==='new');
      tr.hidden=!ok; if(ok) n++;
    });
    shown.textContent=n; none.hidden=n>0;
  }
  // The filter lives in the hash: #q=bucket&severity=critical&rule=no-public-access&waived=no&new=only
  function toHash(){
    var p=new URLSearchParams();
    if(text.value.trim()) p.set('q',text.value.trim()); if(sev.value) p.set('severity',sev.value);
    if(rule.value) p.set('rule',rule.value); if(!waived.checked) p.set('waived','no');
    if(fresh.checked) p.set('new','only');
    var h=p.toString(); history.replaceState(null,'',h?'#'+h:location.pathname+location.search);
  }
  function fromHash(){
    if(location.hash.indexOf('=')<0){ text.value=''; sev.value=''; rule.value=''; waived.checked=true;
      fresh.checked=false; apply(); return; }
    var p=new URLSearchParams(location.hash.slice(1));
    text.value=p.get('q')||''; sev.value=p.get('severity')||''; rule.value=p.get('rule')||'';
    waived.checked=p.get('waived')!=='no'; fresh.checked=!fresh.disabled&&p.get('new')==='only'; apply();
  }
  [text,sev,rule,waived,fresh].forEach(function(el){
    el.addEventListener('input',function(){apply();toHash();});
    el.addEventListener('change',function(){apply();toHash();});
  });
  window.addEventListener('hashchange',fromHash);
  // Sorting: click a column header; again to reverse. Ties keep the report's order (most severe first).
  var heads=[].slice.call(table.querySelectorAll('th[data-sort]'));
  function sortBy(th){
    var key=th.getAttribute('data-sort'), asc=th.getAttribute('aria-sort')!=='ascending';
    if(key==='rank') asc=th.getAttribute('aria-sort')==='descending';
    heads.forEach(function(h){h.setAttribute('aria-sort','none');});
    th.setAttribute('aria-sort',asc?'ascending':'descending');
    var numeric=key==='rank'||key==='order';
    rows.slice().sort(function(a,b){
      var x=a.getAttribute('data-'+key), y=b.getAttribute('data-'+key), c;
      c=numeric?(+x)-(+y):x.localeCompare(y);
      if(!c) return (+a.getAttribute('data-index'))-(+b.getAttribute('data-index'));
      return asc?c:-c;
    }).forEach(function(tr){body.appendChild(tr);});
  }
  heads.forEach(function(th){var b=th.querySelector('button'); b.disabled=false;
    b.addEventListener('click',function(){sortBy(th);});});
  fromHash();
  box.hidden=false;
})();
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def render(report: Report) -> str:
    summary = report.summary()
    judged = verdict(report)
    status, label, meaning = judged.status, judged.label, judged.meaning
    counts = ", ".join(f"{summary['by_severity'][s]} {s}" for s in MOST_SEVERE_FIRST if summary["by_severity"][s])
    headline = f"{summary['total']} finding(s)" + (f" ({counts})" if counts else "")
    title = f"Model Registry Guard: {label} ({headline})"
    banner = (
        f'<header class="banner status-{BANNER_CLASS[status]}" id="status" data-status="{_e(status)}">'
        '<div class="inner">'
        f'<div class="kicker">Model Registry Guard · {_e(report.kind)} report</div>'
        f"<h1>{_e(label)}: {_e(headline)}</h1><p>{_e(meaning)} Generated {_e(_when(report.generated_at))}.</p>"
        "</div></header>"
    )
    body = "".join([
        _summary_cards(report, summary), _errors(report), _charts(report), _findings(report), _resolved(report),
        _waivers(report), _undetermined(report), access_html.section(report), releases_html.section(report),
        _inventory(report),
        _metadata(report, summary),
    ])
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="model-registry-guard {_e(__version__)}">'
        f"<title>{_e(title)}</title><style>{_CSS}{access_html.CSS}{releases_html.CSS}</style></head>"
        f'<body data-status="{_e(status)}" data-complete="{str(report.complete).lower()}">{banner}<main>{body}'
        f"<footer>model-registry-guard {_e(__version__)} · rendered from the JSON report; re-render with "
        "<code>registry-guard report REPORT.json --format html</code></footer></main>"
        f"<script>{_SCRIPT}{access_html.SCRIPT}</script></body></html>\n"
    )
