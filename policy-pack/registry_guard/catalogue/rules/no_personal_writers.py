"""Write access goes to groups or service accounts, never to a person; consumer accounts get nothing."""

from __future__ import annotations

from collections.abc import Iterator

from ..capabilities import WRITE_CAPABILITIES
from ..effective_access import effective_access
from ..findings import Finding, Undetermined
from ..frameworks import SHA_NON_ORG_IAM_MEMBER
from ..grants import (
    LIVE_ACCESS_READ,
    access_evidence,
    access_text,
    grant_evidence,
    judgeable_grants,
    member_access,
    reaches_registry,
    unjudged_access,
)
from ..model import Subject
from ..principals import is_write_role
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="no-personal-writers",
    title="Writers are groups or service accounts",
    severity="medium",
    enforcement="advisory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.GRANT,),
    settings=("adminRoles",),
    tags=("iam", "least-privilege"),
    description="Write or admin roles on a registry go to groups, service accounts or single workload identities, "
    "not to a person (user:, or one workforce identity principal://…/workforcePools/…/subject/…); consumer "
    "accounts (@gmail.com, @googlemail.com) get no role at all. Covers the repository, the bucket and its "
    "objects, and at deploy time the project, folder and organization above them. " + LIVE_ACCESS_READ +
    "There a person who can push, move tags or delete versions by any path, inherited or acting as a service "
    "account, and a consumer account with any access, are findings.",
    remediation=(
        "Grant push access to the CI service account or a group instead of a person.",
        "Remove roles held by consumer (@gmail.com) accounts.",
    ),
    frameworks=(SHA_NON_ORG_IAM_MEMBER,),
    url="https://cloud.google.com/artifact-registry/docs/access-control",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    for item in judgeable_grants(inputs.state, rule):
        if isinstance(item, Undetermined):
            yield item
            continue
        grant, role, principal = item
        if not reaches_registry(grant, role):
            continue
        if principal.is_consumer_account:
            message = f"consumer account {grant.member} holds {role} on {grant.target.name}; it should hold no role"
        elif principal.is_personal and is_write_role(role, inputs.settings.admin_roles, grant.target.kind):
            message = (f"{grant.member} can write to {grant.target.name} ({role}); "
                       "give push access to a group or CI service account")
        else:
            continue
        yield rule.finding(str(grant.target), message, grant_evidence(grant, principal))
    effective = effective_access(inputs.state)
    if effective is None:
        return
    yield from unjudged_access(rule, effective, lambda principal: principal.is_personal or
                               principal.is_consumer_account)
    for resource, member, principal, paths in member_access(effective):
        if principal.is_consumer_account:
            yield rule.finding(str(resource), f"consumer account {member} can {access_text(paths, resource)}; it "
                               "should have no access", access_evidence(member, principal, paths))
        elif principal.is_personal and (writes := {c: p for c, p in paths.items() if c in WRITE_CAPABILITIES}):
            yield rule.finding(str(resource), f"{member} can {access_text(writes, resource)}; give push "
                               "access to a group or CI service account", access_evidence(member, principal, writes))
