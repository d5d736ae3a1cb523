"""Acting as a service account that can write to the registry is judged like writing to it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ..access_model import MAX_HOPS
from ..findings import Finding, Undetermined
from ..grants import judgeable_grants, reaches_registry
from ..model import Grant, ResourceRef, Subject, names_unknown
from ..principals import IMPERSONATION_ROLES, Principal, is_admin_role, is_write_role, parse_member
from ..rule import Inputs, Rule, Stage, declare

_Reach = tuple[Grant, str, bool, tuple[str, ...]]  # a write grant, its role, admin-class?, accounts in between
# Roles on a service account that let the holder act as it, or give itself a role that does.
_ACTING_ROLES = IMPERSONATION_ROLES | {"roles/iam.serviceAccountAdmin", "roles/owner", "roles/editor"}


@declare(
    id="impersonation-paths",
    title="Who can act as a registry writer may write",
    severity="high",
    enforcement="mandatory",
    stages=(Stage.DEPLOY,),
    subjects=(Subject.GRANT,),
    across_stack=True,
    settings=("allowedAdmins", "allowedWriters", "adminRoles"),
    tags=("iam", "least-privilege", "impersonation"),
    description="Across the stack's IAM resources: a principal that may act as a service account (token creator, "
    "service account user or workload identity user on it, or admin of it) gets what that account can do, and so "
    "along chains of service accounts that may act as one another, up to four accounts (a longer chain is "
    "reported as could not judge). Where the account can write to or administer a repository or bucket of the "
    "registry (directly, or through its project, folder or organization), that path is judged like a direct "
    "grant: never a public principal, a person or a broad set of identities (unless on allowedWriters, for write "
    "roles), and admin roles only to principals on allowedAdmins. Checked at deploy time on the stack's own "
    "resources. Live, the nightly audit with --effective-access reads service accounts' IAM and follows the same "
    "chains inside the rules on public, admin, broad and personal access, which name the path.",
    remediation=(
        "Remove the impersonation grant on the service account, or grant it only to the workload that runs as "
        "that account (e.g. one workload identity, principal://…/subject/…).",
        "If people must push, give a group the writer role directly instead of the right to act as the CI account.",
    ),
    url="https://cloud.google.com/iam/docs/service-account-impersonation",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    settings = inputs.settings
    allowed_admins = {parse_member(m).canonical for m in settings.allowed_admins}
    allowed_writers = {parse_member(m).canonical for m in settings.allowed_writers}
    writes: dict[str, list[tuple[Grant, str, bool]]] = defaultdict(list)  # account email -> (grant, role, admin)
    acting: list[tuple[Grant, str, Principal]] = []
    for item in judgeable_grants(inputs.state, rule):
        if isinstance(item, Undetermined):
            yield item
            continue
        grant, role, principal = item
        kind = grant.target.kind
        if kind == "service-account":
            if role in _ACTING_ROLES:
                acting.append((grant, role, principal))
        elif principal.kind == "serviceAccount" and reaches_registry(grant, role) and \
                is_write_role(role, settings.admin_roles, kind):
            writes[principal.value].append((grant, role, is_admin_role(role, settings.admin_roles, kind)))
    reach, cut = _chains(writes, acting)
    for account in cut:
        yield rule.undetermined(str(ResourceRef("service-account", account)),
                                f"who may act as {account} is not followed: it acts through a chain of "
                                f"{MAX_HOPS} service accounts already, the longest followed")
    for act_grant, act_role, principal in acting:
        account = act_grant.target.name
        if names_unknown(account) and writes:
            yield rule.undetermined(str(act_grant.target), f"{act_grant.member} may act as a service account that "
                                    "is not known yet (preview), which may be one that writes to the registry")
            continue
        reached = reach.get(account)
        if not reached:
            continue
        admin = any(is_admin for _, _, is_admin, _ in reached)
        breadth = principal.breadth
        if breadth == "unknown":
            yield rule.undetermined(str(act_grant.target), f"{act_grant.member} may act as {account}, which can "
                                    "write to the registry, and who that is cannot be told")
            continue
        if breadth in ("public", "person") or (breadth == "broad" and principal.canonical not in allowed_writers):
            reason = f"{principal.describe()} may not write to the registry, through an account or directly"
        elif breadth == "broad" and admin:
            reason = f"admin-class roles never go to {principal.describe()}"
        elif admin and principal.canonical not in allowed_admins:
            reason = "the account holds admin-class roles and the principal is not on allowedAdmins"
        else:
            continue
        holds = ", ".join(f"{role} on {grant.target.name}" for grant, role, _, via in reached if not via)
        further = [f"may act as {', which may act as '.join(via)}, which holds {role} on {grant.target.name}"
                   for grant, role, _, via in reached if via]
        yield rule.finding(
            str(act_grant.target),
            f"{act_grant.member} may act as {account} ({act_role}), which "
            f"{'; and '.join([*([f'holds {holds}'] if holds else []), *further])}: {reason}",
            {"member": act_grant.member, "role": act_role, "service_account": account,
             "reaches": [{"target": str(g.target), "role": r, **({"through": list(via)} if via else {})}
                         for g, r, _, via in reached],
             "resources": sorted({g.source for g in (act_grant, *(g for g, _, _, _ in reached)) if g.source})},
        )


def _chains(writes: dict[str, list[tuple[Grant, str, bool]]], acting: list[tuple[Grant, str, Principal]],
            ) -> tuple[dict[str, list[_Reach]], list[str]]:
    """What each service account reaches: the registry writes it holds, and those of the accounts it may act as
    (the accounts in between named), along chains of up to MAX_HOPS accounts, as the live audit follows them;
    and the accounts whose reach goes on past that (could not judge)."""
    reach: dict[str, list[_Reach]] = {a: [(g, r, adm, ()) for g, r, adm in held] for a, held in writes.items()}
    between = [(principal.value, grant.target.name) for grant, _, principal in acting
               if principal.kind == "serviceAccount" and not names_unknown(grant.target.name)]
    for hops in range(1, MAX_HOPS + 1):
        grown: dict[str, list[_Reach]] = defaultdict(list)
        for actor, account in between:
            for grant, role, admin, via in reach.get(account, ()):
                if len(via) == hops - 1 and actor != account and actor not in via:
                    entry = (grant, role, admin, (account, *via))
                    if entry not in reach.get(actor, ()) and entry not in grown[actor]:
                        grown[actor].append(entry)
        if not grown:
            return reach, []
        if hops == MAX_HOPS:  # a person acting as these would be a chain of MAX_HOPS + 1
            return reach, sorted(grown)
        for actor, entries in grown.items():
            reach.setdefault(actor, []).extend(entries)
    return reach, []
