"""Admin-class roles go only to allow-listed groups and service accounts."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..frameworks import CIS_NO_SERVICE_ACCOUNT_ADMIN, SHA_PRIMITIVE_ROLES_USED
from ..grants import grant_evidence, granted_through, judgeable_grants
from ..model import Subject
from ..principals import is_admin_role, parse_member
from ..rule import Inputs, Rule, Stage, declare

_NEVER_ADMIN = {"public": "a public principal", "domain": "a whole domain", "user": "a person"}


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
        # project-owners-N style ACL entries follow the project's own IAM, judged there.
        if not is_admin_role(role, settings.admin_roles) or principal.kind == "project":
            continue
        if principal.kind in _NEVER_ADMIN:
            reason = f"admin-class roles never go to {_NEVER_ADMIN[principal.kind]}"
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
