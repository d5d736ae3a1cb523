"""What the access rules share: reading a grant's principal, the evidence a grant finding carries, and, when
the scan computed effective access, each principal's capabilities on a repository or bucket with their paths."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from .access_model import AccessPath, EffectiveAccess
from .capabilities import CAPABILITIES, CAPABILITY_TITLES, Capability
from .effective_access import effective_access
from .findings import Undetermined
from .model import Grant, RegistryState, ResourceRef, is_unknown
from .principals import ANCESTOR_KINDS, Principal, is_registry_role, parse_member
from .rule import Rule

# With effective access, grants on these are judged through it (with their paths), not one by one.
_EFFECTIVE_KINDS: Final = frozenset({"repository", "bucket", "project", "folder", "organization"})
ANCESTORS_ONLY: Final = frozenset(ANCESTOR_KINDS)
# What the nightly audit reads for the access rules, in their descriptions.
LIVE_ACCESS_READ: Final = (
    "Live, the nightly audit reads the IAM of repositories and buckets; with --effective-access it also reads the "
    "IAM of their project and of every folder and the organization above it, expands predefined and custom roles "
    "into permissions, and follows service account impersonation along chains of up to four accounts (the "
    "accounts' own IAM and impersonation roles on their projects), and judges what each principal can do there, "
    "naming the path. ")

_SHAPES = {
    "object-acl": "an object ACL",
    "iam-member": "an IAM member",
    "iam-binding": "an IAM binding",
    "iam-policy": "the IAM policy",
    "bucket-acl": "the bucket ACL",
    "default-object-acl": "the default object ACL",
}


def grant_evidence(grant: Grant, principal: Principal) -> dict[str, Any]:
    evidence: dict[str, Any] = {"role": grant.role, "member": grant.member, "shape": grant.shape}
    if principal.deleted:
        evidence["deleted_principal"] = True
    if grant.condition is not None:
        evidence["condition"] = grant.condition.expression
        if grant.condition.title:
            evidence["condition_title"] = grant.condition.title
    if grant.source:
        evidence["source"] = grant.source
    return evidence


def granted_through(grant: Grant) -> str:
    """How the grant was made, for a message: "an IAM binding", "the bucket ACL", ..."""
    return f"{_SHAPES[grant.shape]}{' (its IAM condition does not make it safe)' if grant.condition else ''}"


def judgeable_grants(state: RegistryState, rule: Rule, left_to_effective: frozenset[str] = _EFFECTIVE_KINDS,
                     ) -> Iterator[tuple[Grant, str, Principal] | Undetermined]:
    """Each grant with its role and parsed principal, or "could not judge" when either is not known yet. When
    the state has effective access, the grants on repositories, buckets and what is above them are left to it
    (`member_access`): only object ACLs and service accounts' own IAM are judged grant by grant."""
    covered = effective_access(state) is not None
    for grant in state.grants:
        if covered and grant.target.kind in left_to_effective:
            continue
        if is_unknown(grant.member) or is_unknown(grant.role):
            yield rule.undetermined(str(grant.target), "the member or role is not known yet (preview)")
            continue
        yield grant, grant.role, parse_member(grant.member)


def reaches_registry(grant: Grant, role: str) -> bool:
    """Does this grant give access to a repository, bucket or object of the registry? On a project, folder or
    organization only the roles that reach the registry do; on a service account, none directly (acting as
    the account is judged where the account's own grants are known)."""
    kind = grant.target.kind
    if kind in ANCESTOR_KINDS:
        return is_registry_role(role)
    return kind != "service-account"


# ---------------------------------------------------------------------------------------------
# Effective access (the nightly scan with --effective-access)
# ---------------------------------------------------------------------------------------------

Paths = Mapping[Capability, tuple[AccessPath, ...]]


def member_access(effective: EffectiveAccess) -> Iterator[tuple[ResourceRef, str, Principal, Paths]]:
    """Each principal's capabilities on each repository or bucket, with their paths."""
    grouped: dict[tuple[ResourceRef, str], dict[Capability, tuple[AccessPath, ...]]] = defaultdict(dict)
    for access in effective.accesses:
        grouped[(access.resource, access.member)][access.capability] = access.paths
    for (resource, member), paths in grouped.items():
        yield resource, member, parse_member(member), paths


def access_text(paths: Paths, resource: ResourceRef) -> str:
    """What the principal can do where, and how, for a message: "push new versions, delete versions on R
    (roles/editor on folder folders/20; acting as …)"; a condition is said not to make it safe."""
    capabilities = ", ".join(CAPABILITY_TITLES[c] for c in CAPABILITIES if c in paths)
    described = list(dict.fromkeys(p.describe() for c in CAPABILITIES for p in paths.get(c, ())))
    shown = "; ".join(described[:3]) + (f"; and {len(described) - 3} more path(s)" if len(described) > 3 else "")
    conditional = any(p.conditional for ps in paths.values() for p in ps)
    caveat = "; an IAM condition does not make it safe" if conditional else ""
    return f"{capabilities} on {resource.name} ({shown}{caveat})"


def indirect(paths: Paths) -> dict[Capability, tuple[AccessPath, ...]]:
    """Only the paths that are not a grant on the repository or bucket itself (inherited, or acting as)."""
    kept = {c: tuple(p for p in ps if p.inherited or p.through is not None) for c, ps in paths.items()}
    return {c: ps for c, ps in kept.items() if ps}


def access_evidence(member: str, principal: Principal, paths: Paths) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "member": member,
        "capabilities": [c for c in CAPABILITIES if c in paths],
        "paths": {c: [p.to_json() for p in paths[c]] for c in CAPABILITIES if c in paths},
    }
    if principal.deleted:
        evidence["deleted_principal"] = True
    return evidence


def unjudged_access(rule: Rule, effective: EffectiveAccess,
                    matters: Callable[[Principal], bool]) -> Iterator[Undetermined]:
    """"Could not judge" for what effective access could not judge, where it may matter to the rule: for
    anyone, or for a principal the rule is about (or one whose kind cannot be told)."""
    for gap in effective.not_judged:
        if gap.member is not None:
            principal = parse_member(gap.member)
            if principal.breadth != "unknown" and not matters(principal):
                continue
        who = f" for {gap.member}" if gap.member else ""
        yield rule.undetermined(str(gap.resource), f"effective access could not be judged{who}: {gap.reason}")
