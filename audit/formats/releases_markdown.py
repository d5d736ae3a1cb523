"""The Markdown report's release table: per released version, signed / provenance / SBOM status, those needing
attention first, within the share of the comment size it is given."""

from __future__ import annotations

from collections import Counter

from ..release_table import attention
from ..report import Report
from .markdown import budget_table, code, escape

_ICON = {"verified": "✅", "failed": "❌", "missing": "❌", "not judged": "⚠️", "present": "·", "none": "·"}
_KINDS = (("signed", "Signed"), ("provenance", "Provenance"), ("sbom", "SBOM"))


def _cell(status: object) -> str:
    state = str(status.get("status", "")) if isinstance(status, dict) else ""
    detail = str(status.get("detail", "")) if isinstance(status, dict) else ""
    return f"{_ICON.get(state, '')} {escape(state)}" + (f" ({escape(detail, 120)})" if detail else "")


def section(report: Report, budget: int) -> str:
    if report.releases is None:
        return ""
    rows = list(report.releases)
    if not rows:
        return "### Released versions\n\nNo released versions (no image has a version tag)."
    counts = {key: Counter(str(r[key]["status"]) for r in rows) for key, _ in _KINDS}
    facts = "; ".join(f"{title}: " + ", ".join(f"{n} {escape(s)}" for s, n in sorted(counts[key].items()))
                      for key, title in _KINDS)
    table = budget_table(["Release", "Digest", "Signed", "Provenance", "SBOM"],
                   [[code(f"{r['repository']}/{r['package']}:{', '.join(r['tags'])}", 200), code(r["digest"], 80),
                     _cell(r["signed"]), _cell(r["provenance"]), _cell(r["sbom"])]
                    for r in sorted(rows, key=attention)], budget - len(facts) - 100, "released versions")
    return f"### Released versions ({len(rows)})\n\n{facts}\n\n{table}"
