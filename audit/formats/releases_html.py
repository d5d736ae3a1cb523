"""The HTML report's release table: per released version, whether it is signed, carries provenance and has an
SBOM, with what each status rests on (who signed, which builder, why it failed or was not judged) and the
version and model the image declares. Rows needing attention come first; past `ROW_LIMIT` the rest are counted
and left to the JSON report. Every cell is escaped; stable ids and data attributes (`#release-count`,
`tr.release[data-signed][data-provenance][data-sbom]`) let tests and scripts read it from the DOM."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from html import escape
from typing import Any

from ..release_table import attention
from ..report import Report

ROW_LIMIT = 500
_KINDS = (("signed", "Signed"), ("provenance", "Provenance"), ("sbom", "SBOM"))

CSS = """
#releases table{table-layout:fixed;width:100%}
#releases th:nth-child(1){width:26%}#releases th:nth-child(2){width:16%}
#releases th:nth-child(3),#releases th:nth-child(4){width:18%}#releases th:nth-child(5){width:8%}
#releases th:nth-child(6){width:14%}
.rel{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.85em;font-weight:600;white-space:nowrap}
.rel-verified{background:#dcfae6;color:#067647}.rel-failed{background:#fee4e2;color:#b42318}
.rel-missing{background:#fee4e2;color:#b42318}.rel-not-judged{background:#fef0c7;color:#93370d}
.rel-present,.rel-none{background:#f2f4f7;color:#344054}
.rel-detail{font-size:.8em;color:var(--muted);overflow-wrap:anywhere;margin-top:2px}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _status(status: Mapping[str, Any]) -> str:
    state = str(status.get("status", ""))
    detail = str(status.get("detail", ""))
    return (f'<span class="rel rel-{_e(state.replace(" ", "-"))}" title="{_e(detail)}">{_e(state)}</span>'
            + (f'<div class="rel-detail">{_e(detail[:300])}</div>' if detail else ""))


def _declares(row: Mapping[str, Any]) -> str:
    parts = []
    if row.get("version_label"):
        parts.append(f"version {_e(row['version_label'])}")
    model = row.get("model")
    if isinstance(model, Mapping):
        parts.append(f"{_e(model.get('packaging'))} {_e(model.get('name') or '')} {_e(model.get('version') or '')}")
    return "<br>".join(parts) or '<span class="muted">-</span>'


def _row(row: Mapping[str, Any]) -> str:
    name = f"{row['repository']}/{row['package']}:{', '.join(row['tags'])}"
    data = "".join(f' data-{key}="{_e(row[key]["status"])}"' for key, _ in _KINDS)
    cells = "".join(f"<td>{_status(row[key])}</td>" for key, _ in _KINDS)
    return (f'<tr class="release"{data}><td class="mono wrap">{_e(name)}</td>'
            f'<td class="mono wrap">{_e(row.get("digest"))}</td>{cells}<td class="small">{_declares(row)}</td></tr>')


def section(report: Report) -> str:
    rows = list(report.releases or ())
    if report.releases is None:
        return ""
    counts = {key: Counter(str(r[key]["status"]) for r in rows) for key, _ in _KINDS}
    facts = " · ".join(
        f'{title}: ' + ", ".join(f'<strong data-kind="{key}" data-status="{_e(s)}">{n}</strong> {_e(s)}'
                                 for s, n in sorted(counts[key].items()))
        for key, title in _KINDS if counts[key])
    shown = sorted(rows, key=attention)[:ROW_LIMIT]
    more = (f'<p class="muted" id="releases-not-shown">{len(rows) - len(shown)} more released versions are in the '
            "JSON report.</p>" if len(rows) > len(shown) else "")
    table = (f'<table id="release-table"><thead><tr><th>Release</th><th>Digest</th><th>Signed</th><th>Provenance</th>'
             f"<th>SBOM</th><th>Declares</th></tr></thead><tbody>{''.join(_row(r) for r in shown)}</tbody></table>"
             if rows else '<p class="muted">No released versions (no image has a version tag).</p>')
    return (f'<section id="releases"><h2>Released versions</h2><p class="facts"><strong id="release-count">'
            f"{len(rows)}</strong> released versions{' · ' + facts if facts else ''}</p>{table}{more}</section>")
