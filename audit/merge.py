"""`python -m audit merge`: join the partial reports of N shards into one report.

The reports must be shards of one scan: scan reports, one shard count, each index below it at most once,
the same registries, Artifact Registry, stack export and history, and each bucket in the shard that owns
it; anything else is refused (exit 2). A merge is complete only when every shard 0..N-1 is present and each
shard's own scan was complete; a missing or incomplete shard is reported as an error (exit 3), never as a
complete, compliant estate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from registry_guard.catalogue.severity import severity_rank

from .errors import ScanError
from .report import Report, ReportFinding, Waiver, report_from_json
from .sharding import in_shard

# Cloud Run runs at most 10,000 tasks of one job; a count past it did not come from a scan.
MAX_SHARDS = 10_000


def _shard_of(report: Report) -> tuple[int, int] | None:
    shard = report.target.get("shard")
    if isinstance(shard, dict) and isinstance(shard.get("index"), int) and isinstance(shard.get("count"), int):
        return shard["index"], shard["count"]
    return None


def _scan_of(report: Report, shard: tuple[int, int]) -> dict[str, Any]:
    """What every shard of one scan shares: the sources named on its command line (not what each shard
    happened to read of them), the stack export, and the history location without the shard's own folder."""
    target = report.target
    registries = target.get("registries", [])
    history = str(target.get("history", "")).removesuffix(f"/shard-{shard[0]}-of-{shard[1]}")
    return {
        "artifact_registry": target.get("artifact_registry"),
        "registries": sorted(r.get("url") for r in registries if isinstance(r, dict)) if isinstance(
            registries, list) else registries,
        "desired": target.get("desired"),
        "history": history,
    }


def merge_reports(documents: Sequence[tuple[str, dict[str, Any]]]) -> Report:
    """`documents` are (file name, schema-valid JSON report) pairs from `scan --shard I/N`."""
    if not documents:
        raise ValueError("merge: no reports given")
    reports = [(name, report_from_json(doc)) for name, doc in documents]
    errors: list[ScanError] = []
    for name, report in reports:
        if report.kind != "scan":
            raise ValueError(f"merge: {name} is a {report.kind} report, not a shard of a scan")
    counts = {s[1] for _, r in reports if (s := _shard_of(r))}
    if len(counts) != 1:
        found = sorted(counts) or "none"
        raise ValueError(f"merge: the reports must come from one `--shard I/N` run (shard counts found: {found})")
    count = counts.pop()
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"merge: a shard count of {count} is not one a scan runs with (1 to {MAX_SHARDS})")
    seen: dict[int, str] = {}
    scan: tuple[str, dict[str, Any]] | None = None
    for name, report in reports:
        shard = _shard_of(report)
        if shard is None:
            raise ValueError(f"merge: {name} is not a shard report (no target.shard)")
        if not 0 <= shard[0] < count:
            raise ValueError(f"merge: {name} says it is shard {shard[0]} of {count}")
        if shard[0] in seen:
            raise ValueError(f"merge: shard {shard[0]}/{count} given twice ({seen[shard[0]]} and {name})")
        seen[shard[0]] = name
        identity = _scan_of(report, shard)
        if scan is None:
            scan = (name, identity)
        elif identity != scan[1]:
            differ = ", ".join(k for k in identity if identity[k] != scan[1][k])
            raise ValueError(f"merge: {scan[0]} and {name} are not shards of one scan (their {differ} differ)")
        buckets = report.target.get("gcr_buckets", [])
        if not isinstance(buckets, list):
            raise ValueError(f"merge: {name}: target.gcr_buckets is not a list of buckets")
        strays = [b for b in buckets if not in_shard(str(b), shard)]
        if strays:
            raise ValueError(f"merge: {name} holds bucket {strays[0]}, which shard {shard[0]}/{count} does not scan")
        if not report.complete:
            errors.append(ScanError("merge", f"shard {shard[0]}/{count}", f"{name} is incomplete"))
        errors.extend(report.errors)
    for low, high in _runs(sorted(set(range(count)) - set(seen))):
        where = f"shard {low}/{count}" if low == high else f"shards {low} to {high} of {count}"
        errors.append(ScanError("merge", where, "no report for this shard" if low == high else "no reports"))

    findings: list[ReportFinding] = [f for _, r in reports for f in r.findings]
    findings.sort(key=lambda f: (-severity_rank(f.severity), f.rule_id, f.resource, f.message))
    try:
        inventory = _merge_inventory([r.inventory for _, r in reports])
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"merge: a report's inventory is malformed ({type(exc).__name__}: {exc})"[:300]) from None
    by_index = sorted(reports, key=lambda nr: _shard_of(nr[1]) or (0, 0))
    target = _merge_target([{k: v for k, v in r.target.items() if k != "shard"} for _, r in by_index])
    target["shards"] = {"count": count, "reports": [seen[i] for i in sorted(seen)]}
    rules = tuple(dict.fromkeys(rule for _, r in reports for rule in r.rules_evaluated))
    return Report(
        generated_at=max(r.generated_at for _, r in reports),
        target=target,
        complete=not errors,
        errors=tuple(errors),
        findings=tuple(findings),
        # A target no shard read (e.g. a declared project's IAM) is reported by every shard: say it once.
        undetermined=tuple(dict.fromkeys(u for _, r in reports for u in r.undetermined)),
        inventory=inventory,
        rules_evaluated=rules,
        timings={f"shard {_shard_of(r)[0]}": r.timings.get("total", 0.0) for _, r in reports},  # type: ignore[index]
        kind="merge",
        waivers=_merge_waivers([r.waivers for _, r in reports]),
        resolved=tuple(f for _, r in reports for f in r.resolved),
        access=_merge_access([r.access for _, r in reports]),
        releases=_merge_releases([r.releases for _, r in reports]),
    )


def _merge_target(targets: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the shards scanned together: what every shard says alike, as it says it; lists joined (each shard
    lists its own buckets and what it read of each registry: a registry's counts are summed, as the shards
    split its repositories); anything else that differs is kept per shard (`per_shard`), never the first
    shard's value standing for all."""
    merged: dict[str, Any] = {}
    per_shard: dict[str, list[Any]] = {}
    for key in dict.fromkeys(k for t in targets for k in t):
        values = [t.get(key) for t in targets]
        if all(v == values[0] for v in values):
            merged[key] = values[0]
        elif all(isinstance(v, list) or v is None for v in values):  # a shard with none of them may omit it
            merged[key] = _join_lists([v or [] for v in values])
        else:
            per_shard[key] = values
    if per_shard:
        merged["per_shard"] = per_shard
    return merged


def _join_lists(lists: Sequence[list[Any]]) -> list[Any]:
    out: dict[str, Any] = {}
    for item in (i for part in lists for i in part):
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            prior = out.get(item["url"])
            if prior is None:
                out[item["url"]] = dict(item)
            else:
                for k, v in item.items():
                    both_counts = isinstance(v, int) and isinstance(prior.get(k), int) and not isinstance(v, bool)
                    prior[k] = prior[k] + v if both_counts else prior.get(k, v)
        else:
            out.setdefault(json.dumps(item, sort_keys=True, default=str), item)
    values = list(out.values())
    return sorted(values) if all(isinstance(v, str) for v in values) else values


def _merge_releases(parts: Sequence[Any]) -> list[Any] | None:
    """Each shard's release table lists its own repositories' releases: the merged one lists them all."""
    present = [p for p in parts if p is not None]
    if not present:
        return None
    try:
        return sorted((row for p in present for row in p),
                      key=lambda row: (str(row["repository"]), str(row["package"]), ",".join(row["tags"])))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"merge: a report's release table is malformed ({type(exc).__name__})") from None


def _merge_access(parts: Sequence[Any]) -> dict[str, Any] | None:
    """Each shard's access matrix covers its own repositories and buckets: the merged one lists them all."""
    present = [p for p in parts if p]
    if not present:
        return None
    try:
        resources = sorted((r for p in present for r in p["resources"]), key=lambda r: str(r["resource"]))
        return {**present[0], "resources": resources}
    except (KeyError, TypeError) as exc:
        raise ValueError(f"merge: a report's access matrix is malformed ({type(exc).__name__})") from None


def _runs(numbers: Sequence[int]) -> list[tuple[int, int]]:
    """[0, 1, 2, 5] -> [(0, 2), (5, 5)]"""
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


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


