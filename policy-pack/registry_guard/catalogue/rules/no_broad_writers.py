"""Write access goes to no broad set of identities."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..frameworks import CCC_ACCESS_MISCONFIGURED
from ..grants import grant_evidence, granted_through, judgeable_grants, reaches_registry
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
    "principals are judged by the rules for them.",
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
