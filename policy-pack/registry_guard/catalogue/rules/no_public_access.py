"""No public principal holds a role on the registry."""

from __future__ import annotations

from collections.abc import Iterator

from ..effective_access import effective_access
from ..findings import Finding, Undetermined
from ..frameworks import CCC_UNTRUSTED_ACCESS, CIS_BUCKET_NOT_PUBLIC, SHA_PUBLIC_BUCKET_ACL
from ..grants import (
    ANCESTORS_ONLY,
    LIVE_ACCESS_READ,
    access_evidence,
    access_text,
    grant_evidence,
    granted_through,
    indirect,
    judgeable_grants,
    member_access,
    reaches_registry,
    unjudged_access,
)
from ..model import Subject
from ..principals import IMPERSONATION_ROLES, is_admin_role
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="no-public-access",
    title="Registry is not public",
    severity="critical",
    enforcement="mandatory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.GRANT,),
    tags=("iam", "acl", "public-access"),
    description="No allUsers or allAuthenticatedUsers (in any spelling, deleted: or not) holds a role on the registry: "
    "on an Artifact Registry repository or a Cloud Storage bucket (IAM, bucket ACL, default object ACL), on an "
    "object of a bucket (object ACL), or on a service account (anyone could act as it). At deploy time it also "
    "covers the stack's project, folder and organization IAM with a role that reaches the registry "
    "(storage, artifactregistry, basic, custom roles, and roles that lead to admin). " + LIVE_ACCESS_READ +
    "There a public principal that can pull, push, move tags, delete versions or change IAM by any path (on the "
    "repository or bucket, inherited, or acting as a service account) is a finding. An IAM condition does not "
    "make a public grant safe.",
    remediation=(
        "Remove allUsers / allAuthenticatedUsers from the repository or bucket IAM policy and ACLs.",
        "Grant pull access to named groups or service accounts with roles/artifactregistry.reader "
        "(or roles/storage.objectViewer for a Container Registry bucket).",
        "Remove public entries from object ACLs and from the IAM of service accounts.",
        "Enforce public access prevention on buckets and the iam.allowedPolicyMemberDomains org policy.",
    ),
    frameworks=(CIS_BUCKET_NOT_PUBLIC, SHA_PUBLIC_BUCKET_ACL, CCC_UNTRUSTED_ACCESS),
    url="https://cloud.google.com/artifact-registry/docs/access-control",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    # A public principal's grants on the repository or bucket are found role by role, whatever they allow (a
    # bucket READER lists it); effective access adds what reaches it from above or through an account.
    for item in judgeable_grants(inputs.state, rule, ANCESTORS_ONLY):
        if isinstance(item, Undetermined):
            yield item
            continue
        grant, role, principal = item
        if not principal.is_public:
            continue
        if grant.target.kind == "service-account":
            # Whoever may act as an account of the registry's stack may do all it does.
            if role in IMPERSONATION_ROLES or is_admin_role(role, (), "project"):
                yield rule.finding(
                    str(grant.target),
                    f"{principal.value} holds {role} on service account {grant.target.name} through "
                    f"{granted_through(grant)}: anyone can act as that account",
                    grant_evidence(grant, principal),
                )
            continue
        if not reaches_registry(grant, role):
            continue
        yield rule.finding(
            str(grant.target),
            f"{principal.value} holds {role} on {grant.target.name} through {granted_through(grant)}",
            grant_evidence(grant, principal),
        )
    effective = effective_access(inputs.state)
    if effective is None:
        return
    yield from unjudged_access(rule, effective, lambda principal: principal.is_public)
    for resource, member, principal, paths in member_access(effective):
        if principal.is_public and (paths := indirect(paths)):
            yield rule.finding(str(resource), f"{principal.value} can {access_text(paths, resource)}",
                               access_evidence(member, principal, paths))
