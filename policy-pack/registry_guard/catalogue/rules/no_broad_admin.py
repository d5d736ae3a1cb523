"""Admin-class roles go only to allow-listed groups and service accounts."""

from __future__ import annotations

from collections.abc import Iterator

from ..access_model import AccessPath
from ..capabilities import Capability
from ..effective_access import effective_access
from ..findings import Finding, Undetermined
from ..frameworks import (
    CIS_NO_PROJECT_IMPERSONATION,
    CIS_NO_SERVICE_ACCOUNT_ADMIN,
    SHA_OVER_PRIVILEGED_SA_USER,
    SHA_PRIMITIVE_ROLES_USED,
)
from ..grants import (
    LIVE_ACCESS_READ,
    Paths,
    access_evidence,
    access_text,
    grant_evidence,
    granted_through,
    judgeable_grants,
    member_access,
    unjudged_access,
)
from ..model import Subject
from ..principals import Principal, is_admin_role, is_default_bucket_grant, parse_member
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
    description="Admin-class roles go only to principals on allowedAdmins, and never to a public principal, a person "
    "(user:, one workforce identity) or a broad set of identities (a domain, a workload or workforce identity pool "
    "or attribute set, every owner, editor or viewer of a project). Admin-class: owner, editor, storage.admin, "
    "storage.legacyBucketOwner, artifactregistry.admin, repoAdmin and createOnPushRepoAdmin, an ACL OWNER, the "
    "configured adminRoles, and, on a project, folder or organization, the roles that lead to admin (project, "
    "folder and organization IAM admins, security admin, service account admin and key admin, and acting as "
    "service accounts: token creator, service account user, workload identity user). Cloud Storage's default "
    "grants to a bucket's own project teams are not counted. " + LIVE_ACCESS_READ + "There a principal "
    "that can change the IAM of a repository or bucket (its own, or the project's, a folder's or the "
    "organization's above it) or holds an admin-class role by any path, inherited or acting as a service "
    "account, is judged as an admin.",
    remediation=(
        "Replace the admin grant with the narrowest role the principal needs: roles/artifactregistry.reader "
        "to pull, roles/artifactregistry.writer to push (roles/storage.objectViewer / "
        "roles/storage.legacyBucketWriter on a Container Registry bucket).",
        "If an admin is really needed, grant it to a group or service account and add it to allowedAdmins.",
    ),
    frameworks=(CIS_NO_SERVICE_ACCOUNT_ADMIN, CIS_NO_PROJECT_IMPERSONATION, SHA_PRIMITIVE_ROLES_USED,
                SHA_OVER_PRIVILEGED_SA_USER),
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
    effective = effective_access(inputs.state)
    if effective is None:
        return
    yield from unjudged_access(rule, effective, lambda principal: True)
    for resource, member, principal, paths in member_access(effective):
        admin = _admin_paths(paths, principal, settings.admin_roles)
        if not admin:
            continue
        breadth = principal.breadth
        if breadth == "unknown":
            yield rule.undetermined(str(resource), f"{member} can {access_text(admin, resource)}, and who "
                                    "that is cannot be told: it is not a principal Google Cloud defines")
            continue
        if breadth in ("public", "broad", "person"):
            reason = f"admin-class access never goes to {principal.describe()}"
        elif principal.canonical not in allowed:
            reason = "the principal is not on allowedAdmins"
        else:
            continue
        yield rule.finding(str(resource), f"{member} can {access_text(admin, resource)}: {reason}",
                           access_evidence(member, principal, admin))


def _admin_paths(paths: Paths, principal: Principal, admin_roles: tuple[str, ...]) -> dict[Capability,
                                                                                           tuple[AccessPath, ...]]:
    """The capabilities the principal has as an admin: changing IAM by any path, or anything through an
    admin-class role (Cloud Storage's default grants to the bucket's own project teams aside)."""
    def counts(path: AccessPath) -> bool:
        return not (path.target.kind == "bucket" and path.through is None
                    and is_default_bucket_grant(principal, path.role))

    out: dict[Capability, tuple[AccessPath, ...]] = {}
    for capability, found in paths.items():
        kept = tuple(p for p in found if counts(p) and (
            capability == "change-iam" or is_admin_role(p.role, admin_roles, p.target.kind)))
        if kept:
            out[capability] = kept
    return out
