"""Write access goes to groups or service accounts, never to a person; consumer accounts get nothing."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..frameworks import SHA_NON_ORG_IAM_MEMBER
from ..grants import grant_evidence, judgeable_grants, reaches_registry
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
    "objects, and at deploy time the project, folder and organization above them.",
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
