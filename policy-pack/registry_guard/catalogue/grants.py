"""What the access rules share: reading a grant's principal, and the evidence a grant finding carries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .findings import Undetermined
from .model import Grant, RegistryState, is_unknown
from .principals import ANCESTOR_KINDS, Principal, is_registry_role, parse_member
from .rule import Rule

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


def judgeable_grants(state: RegistryState, rule: Rule) -> Iterator[tuple[Grant, str, Principal] | Undetermined]:
    """Each grant with its role and parsed principal, or "could not judge" when either is not known yet."""
    for grant in state.grants:
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
