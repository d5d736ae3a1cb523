"""The access matrix a report carries: for each repository and bucket, each principal's capabilities (pull,
push new versions, move or overwrite tags, delete versions, change IAM), each with its paths, and what could not
be judged there. Built from the catalogue's `EffectiveAccess`; every format renders it from the JSON report."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from registry_guard.catalogue.access_model import AccessPath, EffectiveAccess
from registry_guard.catalogue.capabilities import CAPABILITIES, CAPABILITY_TITLES


def access_matrix(effective: EffectiveAccess) -> dict[str, Any]:
    members: dict[str, dict[str, dict[str, list[AccessPath]]]] = defaultdict(lambda: defaultdict(dict))
    for access in effective.accesses:
        members[str(access.resource)][access.member][access.capability] = list(access.paths)
    gaps: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for gap in effective.not_judged:
        gaps[str(gap.resource)].append({"reason": gap.reason, "member": gap.member,
                                        "capabilities": list(gap.capabilities)})
    resources = []
    for ref in effective.resources:
        key = str(ref)
        principals = [{"member": member,
                       "capabilities": {c: [p.to_json() for p in held[c]] for c in CAPABILITIES if c in held}}
                      for member, held in sorted(members.get(key, {}).items())]
        resources.append({"resource": key, "kind": ref.kind, "name": ref.name, "principals": principals,
                          "not_judged": gaps.get(key, [])})
    return {"backend": effective.backend, "basis": effective.basis,
            "capabilities": [{"id": c, "title": CAPABILITY_TITLES[c]} for c in CAPABILITIES],
            "resources": resources}


def describe_path(path: Any) -> str:
    """One path of the JSON matrix in words (the formats' hover and expand text)."""
    def where(kind: str, name: str) -> str:
        return {"repository": "the repository", "bucket": "the bucket"}.get(kind, f"{kind} {name}")

    text = f"{path['role']} on {where(path['where'], path['target'])}"
    if path.get("condition"):
        text += f" if {path['condition'].get('title') or path['condition']['expression']}"
    hops = [path["through"], *path.get("then", ())] if path.get("through") else []
    if not hops:
        return text

    def acting(hop: Any) -> str:
        how = f"{hop['role']} on {where(hop['where'], hop['target'])}"
        if hop.get("condition"):
            how += f" if {hop['condition'].get('title') or hop['condition']['expression']}"
        return f"as {hop['service_account']} ({how})"

    return f"acting {', which may act '.join(acting(hop) for hop in hops)}, which holds {text}"
