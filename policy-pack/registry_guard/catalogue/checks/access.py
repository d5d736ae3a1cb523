"""Who can reach the registry: public principals, admin roles, personal writers, IAM resources that fight."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from ..findings import Finding, Undetermined
from ..model import Grant, RegistryState, is_unknown
from ..principals import Principal, is_admin_role, is_registry_role, is_write_role, parse_member
from ..settings import Settings


def _evidence(grant: Grant, principal: Principal) -> dict[str, Any]:
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


def _via(grant: Grant) -> str:
    shape = {
        "iam-member": "an IAM member",
        "iam-binding": "an IAM binding",
        "iam-policy": "the IAM policy",
        "bucket-acl": "the bucket ACL",
        "default-object-acl": "the default object ACL",
    }[grant.shape]
    return f"{shape}{' (its IAM condition does not make it safe)' if grant.condition else ''}"


def _judgeable(grants: tuple[Grant, ...], rule_id: str) -> Iterator[tuple[Grant, Principal] | Undetermined]:
    for grant in grants:
        if is_unknown(grant.member) or is_unknown(grant.role):
            yield Undetermined(rule_id, str(grant.target), "the member or role is not known yet (preview)")
            continue
        assert isinstance(grant.member, str)
        yield grant, parse_member(grant.member)


def no_public_access(state: RegistryState, settings: Settings) -> Iterator[Finding | Undetermined]:
    for item in _judgeable(state.grants, "no-public-access"):
        if isinstance(item, Undetermined):
            yield item
            continue
        grant, principal = item
        role = str(grant.role)
        if not principal.is_public:
            continue
        if grant.target.kind == "project" and not is_registry_role(role):
            continue
        yield Finding(
            "no-public-access",
            str(grant.target),
            f"{principal.value} holds {role} on {grant.target.name} through {_via(grant)}",
            _evidence(grant, principal),
        )


def no_broad_admin(state: RegistryState, settings: Settings) -> Iterator[Finding | Undetermined]:
    allowed = {parse_member(m).canonical for m in settings.allowed_admins}
    for item in _judgeable(state.grants, "no-broad-admin"):
        if isinstance(item, Undetermined):
            yield item
            continue
        grant, principal = item
        role = str(grant.role)
        # project-owners-N style ACL entries follow the project's own IAM, judged there.
        if not is_admin_role(role, settings.admin_roles) or principal.kind == "project":
            continue
        if principal.is_public or principal.kind == "domain" or principal.is_personal:
            why = {"public": "a public principal", "domain": "a whole domain", "user": "a person"}[principal.kind]
            reason = f"admin-class roles never go to {why}"
        elif principal.canonical not in allowed:
            reason = "the principal is not on allowedAdmins"
        else:
            continue
        yield Finding(
            "no-broad-admin",
            str(grant.target),
            f"{grant.member} holds admin-class role {role} on {grant.target.name} through {_via(grant)}: {reason}",
            _evidence(grant, principal),
        )


def no_personal_writers(state: RegistryState, settings: Settings) -> Iterator[Finding | Undetermined]:
    for item in _judgeable(state.grants, "no-personal-writers"):
        if isinstance(item, Undetermined):
            yield item
            continue
        grant, principal = item
        role = str(grant.role)
        if grant.target.kind == "project" and not is_registry_role(role):
            continue
        if principal.is_consumer_account:
            message = f"consumer account {grant.member} holds {role} on {grant.target.name}; it should hold no role"
        elif principal.is_personal and is_write_role(role, settings.admin_roles):
            message = (f"{grant.member} can write to {grant.target.name} ({role}); "
                       "give push access to a group or CI service account")
        else:
            continue
        yield Finding("no-personal-writers", str(grant.target), message, _evidence(grant, principal))


def iam_authoritative_conflict(state: RegistryState, settings: Settings) -> Iterator[Finding | Undetermined]:
    by_target = defaultdict(list)
    for declaration in state.iam_declarations:
        by_target[declaration.target].append(declaration)
    for target, declarations in sorted(by_target.items()):
        policies = [d for d in declarations if d.shape == "iam-policy"]
        others = [d for d in declarations if d.shape != "iam-policy"]
        if policies and (len(policies) > 1 or others):
            sources = sorted(d.source for d in declarations)
            yield Finding(
                "iam-authoritative-conflict",
                str(target),
                f"{len(policies)} authoritative IAM policy resource(s) and {len(others)} binding/member "
                f"resource(s) manage {target.name}; they overwrite each other",
                {"resources": sources},
            )
            continue
        bindings_by_role = defaultdict(list)
        for d in others:
            if d.role is not None:
                bindings_by_role[d.role].append(d)
        for role, same_role in sorted(bindings_by_role.items()):
            bindings = [d for d in same_role if d.shape == "iam-binding"]
            if bindings and len(same_role) > 1:
                yield Finding(
                    "iam-authoritative-conflict",
                    str(target),
                    f"{len(bindings)} IAM binding(s) and {len(same_role) - len(bindings)} member resource(s) set "
                    f"role {role} on {target.name}; the binding is authoritative for the role and one silently wins",
                    {"role": role, "resources": sorted(d.source for d in same_role)},
                )
