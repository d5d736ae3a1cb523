"""`python -m audit merge`: join the partial reports of N shards into one report.

A merge is complete only when every shard 0..N-1 is present exactly once and each shard's own scan was
complete; anything else is reported as an error (exit 3), never as a complete, compliant estate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from registry_guard.catalogue.severity import severity_rank

from .errors import ScanError
from .report import Report, ReportFinding, Waiver, report_from_json


def _shard_of(report: Report) -> tuple[int, int] | None:
    shard = report.target.get("shard")
    if isinstance(shard, dict) and isinstance(shard.get("index"), int) and isinstance(shard.get("count"), int):
        return shard["index"], shard["count"]
    return None


def merge_reports(documents: Sequence[tuple[str, dict[str, Any]]]) -> Report:
    """`documents` are (file name, schema-valid JSON report) pairs from `scan --shard I/N`."""
    if not documents:
        raise ValueError("merge: no reports given")
    reports = [(name, report_from_json(doc)) for name, doc in documents]
    errors: list[ScanError] = []
    counts = {s[1] for _, r in reports if (s := _shard_of(r))}
    if len(counts) != 1:
        found = sorted(counts) or "none"
        raise ValueError(f"merge: the reports must come from one `--shard I/N` run (shard counts found: {found})")
    count = counts.pop()
    seen: dict[int, str] = {}
    for name, report in reports:
        shard = _shard_of(report)
        if shard is None:
            raise ValueError(f"merge: {name} is not a shard report (no target.shard)")
        if shard[0] in seen:
            raise ValueError(f"merge: shard {shard[0]}/{count} given twice ({seen[shard[0]]} and {name})")
        seen[shard[0]] = name
        if not report.complete:
            errors.append(ScanError("merge", f"shard {shard[0]}/{count}", f"{name} is incomplete"))
        errors.extend(report.errors)
    for missing in sorted(set(range(count)) - set(seen)):
        errors.append(ScanError("merge", f"shard {missing}/{count}", "no report for this shard"))

    findings: list[ReportFinding] = [f for _, r in reports for f in r.findings]
    findings.sort(key=lambda f: (-severity_rank(f.severity), f.rule_id, f.resource, f.message))
    inventory = _merge_inventory([r.inventory for _, r in reports])
    first = reports[0][1]
    target = {k: v for k, v in first.target.items() if k != "shard"}
    target["shards"] = {"count": count, "reports": [seen[i] for i in sorted(seen)]}
    rules = tuple(dict.fromkeys(rule for _, r in reports for rule in r.rules_evaluated))
    return Report(
        generated_at=max(r.generated_at for _, r in reports),
        target=target,
        complete=not errors,
        errors=tuple(errors),
        findings=tuple(findings),
        undetermined=tuple(u for _, r in reports for u in r.undetermined),
        inventory=inventory,
        rules_evaluated=rules,
        timings={f"shard {_shard_of(r)[0]}": r.timings.get("total", 0.0) for _, r in reports},  # type: ignore[index]
        kind="merge",
        waivers=_merge_waivers([r.waivers for _, r in reports]),
        resolved=tuple(f for _, r in reports for f in r.resolved),
    )


def _merge_inventory(parts: Sequence[Any]) -> dict[str, Any]:
    repositories: dict[str, dict[str, Any]] = {}
    for part in parts:
        for repo in part.get("repositories", ()):
            entry = repositories.setdefault(repo["name"], {"name": repo["name"], "settings": None, "images": []})
            entry["settings"] = entry["settings"] or repo.get("settings")
            entry["images"].extend(repo.get("images", ()))
    buckets = {b["name"]: b for part in parts for b in part.get("buckets", ())}
    return {
        "repositories": [repositories[k] for k in sorted(repositories)],
        "buckets": [buckets[k] for k in sorted(buckets)],
        "legacy_registries": sorted({r for part in parts for r in part.get("legacy_registries", ())}),
        "iam_grants": sum(part.get("iam_grants", 0) for part in parts),
        "images": sum(part.get("images", 0) for part in parts),
        "tags": sum(part.get("tags", 0) for part in parts),
    }


def _merge_waivers(parts: Sequence[Sequence[Waiver]]) -> tuple[Waiver, ...]:
    """Every shard saw the same waiver file: a waiver is used if any shard used it."""
    merged: dict[tuple[str, str, str], Waiver] = {}
    for waivers in parts:
        for w in waivers:
            key = (w.rule_id, w.resource, w.expires)
            prior = merged.get(key)
            matched = w.matched + (prior.matched if prior else 0)
            status = "expired" if w.status == "expired" else ("active" if matched else "unused")
            merged[key] = Waiver(w.rule_id, w.resource, w.justification, w.owner, w.expires, status, matched)
    return tuple(merged.values())


