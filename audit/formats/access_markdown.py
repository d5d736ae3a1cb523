"""The Markdown report's access matrix: per repository or bucket, a table of principal x capability, and the
paths behind each mark in a collapsed list, within the share of the comment size it is given."""

from __future__ import annotations

from ..access_matrix import describe_path
from ..report import Report
from .markdown import budget_table, code, escape, not_shown


def section(report: Report, budget: int) -> str:
    access = report.access
    if not access:
        return ""
    capabilities = access["capabilities"]
    parts = [f"### Who can do what\n\n{escape(access['basis'], None)}"]
    used = len(parts[0])
    resources = access["resources"]
    for i, resource in enumerate(resources):
        rows = [[code(p["member"])] + ["✓" if c["id"] in p["capabilities"] else "" for c in capabilities]
                for p in resource["principals"]]
        table = budget_table(["Principal", *(escape(c["title"]) for c in capabilities)], rows, 4_000, "principals") \
            if rows else "_No principal has any of these capabilities here._"
        paths = [f"- {code(p['member'])} {escape(c)}: {escape(describe_path(path), 300)}"
                 for p in resource["principals"] for c, found in p["capabilities"].items() for path in found]
        gaps = [f"> ⚠️ could not judge{(' for ' + code(g['member'])) if g['member'] else ''}: {escape(g['reason'], 300)}"
                for g in resource["not_judged"]]
        block = "\n\n".join(x for x in [
            f"#### {escape(resource['kind'])} {code(resource['name'], 300)}", "\n".join(gaps), table,
            "<details><summary>Paths</summary>\n\n" + "\n".join(paths[:40])
            + (f"\n\n{not_shown(len(paths) - 40, 'paths')}" if len(paths) > 40 else "") + "\n\n</details>"
            if paths else ""] if x)
        if used + len(block) + 200 > budget:
            parts.append(not_shown(len(resources) - i, "repositories and buckets"))
            break
        parts.append(block)
        used += len(block) + 2
    return "\n\n".join(parts)
