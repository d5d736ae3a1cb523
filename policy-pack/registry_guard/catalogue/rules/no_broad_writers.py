"""Write access goes to no broad set of identities."""

from __future__ import annotations

from collections.abc import Iterator

from ..capabilities import WRITE_CAPABILITIES
from ..effective_access import effective_access
from ..findings import Finding, Undetermined
from ..frameworks import CCC_ACCESS_MISCONFIGURED
from ..grants import (
    LIVE_ACCESS_READ,
    access_evidence,
    access_text,
    grant_evidence,
    granted_through,
    judgeable_grants,
    member_access,
    reaches_registry,
    unjudged_access,
)
from ..model import Subject
from ..principals import is_admin_role, is_default_bucket_grant, is_write_role, parse_member
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="no-broad-writers",
    title="Write access only to named identities",
    severity="high",
    enforcement="mandatory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.GRANT,),
    settings=("allowedWriters", "adminRoles"),
    tags=("iam", "least-privilege"),
    description="Roles that can push, move tags or delete versions on a registry (artifactregistry.writer, "
    "storage.objectCreator and the like, on the repository or bucket or on the project, folder or organization "
    "above it) do not go to a broad set of identities: a whole domain (domain:), a workload or workforce identity "
    "pool or an attribute set of one (principalSet://, any identity the pool accepts), or every owner, editor or "
    "viewer of a project (projectOwner:/projectEditor:/projectViewer:), unless the set is on allowedWriters. "
    "Cloud Storage's default grants to a bucket's own project teams are not counted. Admin roles and public "
    "principals are judged by the rules for them. " + LIVE_ACCESS_READ + "There a broad set of identities that "
    "can push, move tags or delete versions by any path that is not an admin-class role, inherited or acting as "
    "a service account, is a finding.",
    remediation=(
        "Grant push access to the CI service account, a named workload identity (principal://…/subject/…) or a "
        "group instead of the whole domain, pool or project team.",
        "If a set of identities must push (e.g. one repository's workflows through its attribute set), add it to "
        "allowedWriters.",
    ),
    frameworks=(CCC_ACCESS_MISCONFIGURED,),
    url="https://cloud.google.com/iam/docs/principal-identifiers",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    settings = inputs.settings
    allowed = {parse_member(m).canonical for m in settings.allowed_writers}
    for item in judgeable_grants(inputs.state, rule):
        if isinstance(item, Undetermined):
            yield item
            continue
        grant, role, principal = item
        kind = grant.target.kind
        if not reaches_registry(grant, role) or not is_write_role(role, settings.admin_roles, kind):
            continue
        if is_admin_role(role, settings.admin_roles, kind):
            continue  # no-broad-admin judges admin roles, whoever holds them
        if kind == "bucket" and is_default_bucket_grant(principal, role):
            continue
        if principal.breadth == "unknown":
            yield rule.undetermined(str(grant.target), f"{grant.member} holds write role {role}, and who that is "
                                    "cannot be told: it is not a principal Google Cloud defines")
            continue
        if principal.breadth != "broad" or principal.canonical in allowed:
            continue
        yield rule.finding(
            str(grant.target),
            f"{grant.member} can write to {grant.target.name} ({role}) through {granted_through(grant)}: "
            f"{principal.describe()} can push, move tags and delete versions there",
            grant_evidence(grant, principal),
        )
    effective = effective_access(inputs.state)
    if effective is None:
        return
    yield from unjudged_access(rule, effective, lambda principal: principal.breadth == "broad")
    for resource, member, principal, paths in member_access(effective):
        if principal.breadth not in ("broad", "unknown") or principal.canonical in allowed:
            continue
        writes = {c: kept for c, found in paths.items() if c in WRITE_CAPABILITIES
                  if (kept := tuple(p for p in found if not is_admin_role(p.role, settings.admin_roles, p.target.kind)
                                    and not (p.target.kind == "bucket" and p.through is None
                                             and is_default_bucket_grant(principal, p.role))))}
        if not writes:
            continue
        if principal.breadth == "unknown":
            yield rule.undetermined(str(resource), f"{member} can {access_text(writes, resource)}, and who "
                                    "that is cannot be told: it is not a principal Google Cloud defines")
            continue
        yield rule.finding(str(resource), f"{member} can {access_text(writes, resource)}: "
                           f"{principal.describe()} can write there", access_evidence(member, principal, writes))
