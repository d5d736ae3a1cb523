"""Admin-class roles go only to allow-listed groups and service accounts."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..frameworks import CIS_NO_SERVICE_ACCOUNT_ADMIN, SHA_PRIMITIVE_ROLES_USED
from ..grants import grant_evidence, granted_through, judgeable_grants
from ..model import Subject
from ..principals import is_admin_role, is_default_bucket_grant, parse_member
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="no-broad-admin",
    title="Admin roles only to allow-listed principals",
    severity="high",
    enforcement="mandatory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.GRANT,),
    settings=("allowedAdmins", "adminRoles"),
    tags=("iam", "least-privilege"),
    description="Admin-class roles (owner, editor, storage.admin, artifactregistry.admin/repoAdmin, "
    "storage.legacyBucketOwner, configured custom roles) go only to principals on allowedAdmins, "
    "never to domain:, public or personal (user:) principals.",
    remediation=(
        "Replace the admin grant with the narrowest role the principal needs: roles/artifactregistry.reader "
        "to pull, roles/artifactregistry.writer to push (roles/storage.objectViewer / "
        "roles/storage.legacyBucketWriter on a Container Registry bucket).",
        "If an admin is really needed, grant it to a group or service account and add it to allowedAdmins.",
    ),
    frameworks=(CIS_NO_SERVICE_ACCOUNT_ADMIN, SHA_PRIMITIVE_ROLES_USED),
    url="https://cloud.google.com/artifact-registry/docs/access-control#roles",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    settings = inputs.settings
    allowed = {parse_member(m).canonical for m in settings.allowed_admins}
    for item in judgeable_grants(inputs.state, rule):
        if isinstance(item, Undetermined):
            yield item
            continue
        grant, role, principal = item
        kind = grant.target.kind
        if kind == "service-account" or not is_admin_role(role, settings.admin_roles, kind):
            continue
        if kind == "bucket" and is_default_bucket_grant(principal, role):
            continue  # Cloud Storage's own default for the bucket's project teams
        breadth = principal.breadth
        if breadth == "unknown":
            yield rule.undetermined(str(grant.target), f"{grant.member} holds admin-class role {role}, and who "
                                    "that is cannot be told: it is not a principal Google Cloud defines")
            continue
        if breadth in ("public", "broad", "person"):
            reason = f"admin-class roles never go to {principal.describe()}"
        elif principal.canonical not in allowed:
            reason = "the principal is not on allowedAdmins"
        else:
            continue
        yield rule.finding(
            str(grant.target),
            f"{grant.member} holds admin-class role {role} on {grant.target.name} through {granted_through(grant)}: "
            f"{reason}",
            grant_evidence(grant, principal),
        )
