"""Principals and roles, compared the way Google Cloud IAM compares them.

Why this is its own module: every IAM shape (member, binding, policy JSON, ACL entity, live
policy) funnels through these few functions, so a public principal cannot hide behind a spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PUBLIC_KEYWORDS = {"allusers": "allUsers", "allauthenticatedusers": "allAuthenticatedUsers"}
CONSUMER_DOMAINS = ("gmail.com", "googlemail.com")

# Roles whose holders administer the registry: they can change IAM, delete repositories or buckets.
ADMIN_ROLES = frozenset({
    "roles/owner",
    "roles/editor",
    "roles/storage.admin",
    "roles/artifactregistry.admin",
    "roles/artifactregistry.repoAdmin",
    "roles/artifactregistry.createOnPushRepoAdmin",
    "roles/storage.legacyBucketOwner",
    "acl:OWNER",
})
WRITE_ROLES = frozenset({
    "roles/artifactregistry.writer",
    "roles/artifactregistry.createOnPushWriter",
    "roles/storage.legacyBucketWriter",
    "roles/storage.objectAdmin",
    "roles/storage.objectCreator",
    "roles/storage.objectUser",
    "acl:WRITER",
}) | ADMIN_ROLES
BASIC_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
# Roles that act as a service account: whoever holds one can do what the account can.
IMPERSONATION_ROLES = frozenset({
    "roles/iam.serviceAccountTokenCreator",
    "roles/iam.serviceAccountUser",
    "roles/iam.workloadIdentityUser",
})
# Roles that lead to admin where they are granted on a project, folder or organization: they can grant
# themselves or anyone any role (IAM admins), or act as or take over any service account under it.
ESCALATION_ROLES = frozenset({
    "roles/resourcemanager.projectIamAdmin",
    "roles/resourcemanager.folderIamAdmin",
    "roles/resourcemanager.folderAdmin",
    "roles/resourcemanager.organizationAdmin",
    "roles/iam.securityAdmin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountKeyAdmin",
}) | IMPERSONATION_ROLES
# Where a grant reaches everything below it: a role there is a role on every repository and bucket under it.
ANCESTOR_KINDS = frozenset({"project", "folder", "organization"})
# What Cloud Storage grants a bucket's own project teams by default (IAM and ACL spellings): these mirror the
# project's basic roles and are not the stack's choice.
DEFAULT_BUCKET_GRANTS = frozenset({
    ("projectOwner", "roles/storage.legacyBucketOwner"), ("projectEditor", "roles/storage.legacyBucketOwner"),
    ("projectViewer", "roles/storage.legacyBucketReader"),
    ("projectOwner", "acl:OWNER"), ("projectEditor", "acl:OWNER"), ("projectViewer", "acl:READER"),
})

MEMBER_PREFIXES = ("user:", "group:", "serviceAccount:", "domain:", "principal://", "principalSet://")
_PREFIX_RE = re.compile(r"^(user|group|serviceAccount|domain|deleted|projectOwner|projectEditor|projectViewer):",
                        re.IGNORECASE)


Breadth = Literal["public", "broad", "person", "group", "workload", "unknown"]


@dataclass(frozen=True)
class Principal:
    """A member string parsed.

    `kind` is user, group, serviceAccount, domain, public, principal, principalSet, project (the
    projectOwner:/projectEditor:/projectViewer: convenience members) or unknown; `deleted` marks `deleted:`
    members (still judged: a deleted service account can be undeleted within 30 days and gets its grants
    back). `breadth` says who that is, as Google Cloud resolves it
    (https://cloud.google.com/iam/docs/principal-identifiers):

    * public: allUsers, allAuthenticatedUsers;
    * broad: a whole domain, a workforce or workload identity pool or an attribute set of one (any identity
      the pool accepts), every service account of a project, every owner, editor or viewer of a project;
    * person: a user, or one workforce identity (`principal://…/workforcePools/…/subject/…`);
    * group: a Google group, or a group of a workforce or workload identity pool;
    * workload: a service account, or one workload identity (`principal://…/workloadIdentityPools/…`);
    * unknown: a spelling Google Cloud does not define.
    """

    raw: str
    kind: str
    value: str
    deleted: bool = False

    @property
    def canonical(self) -> str:
        if self.kind in ("public", "principal", "principalSet"):
            return self.value
        return f"{self.kind}:{self.value}"

    @property
    def breadth(self) -> Breadth:
        if self.kind == "public":
            return "public"
        if self.kind in ("domain", "project"):
            return "broad"
        if self.kind == "user":
            return "person"
        if self.kind == "group":
            return "group"
        if self.kind == "serviceAccount":
            return "workload"
        if self.kind == "principal":
            if "/workforcepools/" in self.value.lower():
                return "person"
            return "workload" if "/workloadidentitypools/" in self.value.lower() else "unknown"
        if self.kind == "principalSet":
            return "group" if "/group/" in self.value.lower() else "broad"
        return "unknown"

    @property
    def is_public(self) -> bool:
        return self.kind == "public"

    @property
    def is_personal(self) -> bool:
        return self.breadth == "person"

    @property
    def is_consumer_account(self) -> bool:
        return self.kind in ("user", "group", "serviceAccount") and self.value.endswith(
            tuple("@" + d for d in CONSUMER_DOMAINS)
        )

    @property
    def team(self) -> str | None:
        """projectOwner, projectEditor or projectViewer for a convenience member, else None."""
        return self.value.split(":", 1)[0] if self.kind == "project" else None

    def describe(self) -> str:
        """Who this is, for a message: "a whole domain", "a person", ..."""
        if self.kind == "project":
            return f"every {self.value.split(':', 1)[0].removeprefix('project').lower()} of project " \
                   f"{self.value.split(':', 1)[1]}"
        return {
            "public": "a public principal",
            "broad": "a whole domain" if self.kind == "domain" else "a set of identities (every identity the "
                     "pool or attribute admits)",
            "person": "a person",
            "group": "a group",
            "workload": "a service account or workload",
            "unknown": "a principal Google Cloud does not define",
        }[self.breadth]


def is_default_bucket_grant(principal: Principal, role: str) -> bool:
    """One of the grants Cloud Storage gives a bucket's project teams by default."""
    return principal.team is not None and (principal.team, role) in DEFAULT_BUCKET_GRANTS


def parse_member(member: str) -> Principal:
    raw = member
    text = member.strip()
    deleted = False
    if text.lower().startswith("deleted:"):
        deleted = True
        text = text[len("deleted:"):]
        # deleted:user:a@b.com?uid=123: the uid is not part of the identity we compare
        text = text.split("?uid=", 1)[0]
    lowered = text.lower()
    if lowered in PUBLIC_KEYWORDS:
        return Principal(raw, "public", PUBLIC_KEYWORDS[lowered], deleted)
    if lowered.startswith("principalset://"):
        return Principal(raw, "principalSet", "principalSet://" + text[len("principalSet://"):], deleted)
    if lowered.startswith("principal://"):
        return Principal(raw, "principal", "principal://" + text[len("principal://"):], deleted)
    match = _PREFIX_RE.match(text)
    if match:
        kind = match.group(1)
        kind = {k.lower(): k for k in ("user", "group", "serviceAccount", "domain", "projectOwner",
                                        "projectEditor", "projectViewer")}[kind.lower()]
        # IAM stores email and domain identities case-insensitively (lower case).
        value = text[match.end():].lower()
        if kind.startswith("project"):
            return Principal(raw, "project", f"{kind}:{value}", deleted)
        return Principal(raw, kind, value, deleted)
    return Principal(raw, "unknown", text, deleted)


def acl_entity_to_member(entity: str) -> str:
    """Cloud Storage ACL entity (`allUsers`, `user-a@b.com`, `group-…`, `domain-…`, `project-owners-N`)
    to IAM member spelling."""
    text = entity.strip()
    if text.lower() in PUBLIC_KEYWORDS:
        return PUBLIC_KEYWORDS[text.lower()]
    for prefix, kind in (("user-", "user:"), ("group-", "group:"), ("domain-", "domain:")):
        if text.lower().startswith(prefix):
            return kind + text[len(prefix):]
    if text.lower().startswith("project-"):
        _, team, number = [*text.split("-", 2), "", ""][:3]
        kind = {"owners": "projectOwner", "editors": "projectEditor", "viewers": "projectViewer"}.get(team, "project")
        return f"{kind}:{number}"
    return text


def is_admin_role(role: str, extra_admin_roles: tuple[str, ...] = (), target_kind: str = "repository") -> bool:
    """Does `role` on a target of `target_kind` administer the registry (or lead to admin)?"""
    return role in ADMIN_ROLES or role in extra_admin_roles or (
        target_kind in ANCESTOR_KINDS and role in ESCALATION_ROLES)


def is_write_role(role: str, extra_admin_roles: tuple[str, ...] = (), target_kind: str = "repository") -> bool:
    return role in WRITE_ROLES or is_admin_role(role, extra_admin_roles, target_kind)


def is_registry_role(role: str) -> bool:
    """On a project, folder or organization, does this role reach the registry? Custom roles count: their
    permissions are not known here, and failing closed is the point."""
    return (
        role.startswith(("roles/storage.", "roles/artifactregistry.", "projects/", "organizations/"))
        or role in BASIC_ROLES
        or role in ESCALATION_ROLES
    )


def validate_member(member: str) -> str | None:
    """Why `member` is not an acceptable principal for the stack's config, or None if it is."""
    principal = parse_member(member)
    if principal.is_public:
        return f"{principal.value} makes the registry public; name groups or service accounts instead"
    if principal.deleted:
        return "deleted: principals cannot be granted roles"
    if not member.startswith(MEMBER_PREFIXES) or member.strip() != member:
        return ("expected one of user:EMAIL, group:EMAIL, serviceAccount:EMAIL, domain:DOMAIN, "
                "principal://iam.googleapis.com/..., principalSet://iam.googleapis.com/...")
    if principal.kind in ("user", "group", "serviceAccount") and not re.fullmatch(
        r"[^@\s]+@[^@\s]+\.[^@\s]+", principal.value
    ):
        return f"{principal.kind}: needs an email address"
    if principal.kind == "domain" and not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", principal.value):
        return "domain: needs a domain name"
    if principal.kind in ("principal", "principalSet") and not re.fullmatch(
        r"principal(Set)?://iam\.googleapis\.com/\S+", principal.value
    ):
        return "principal:// and principalSet:// need an iam.googleapis.com identifier"
    return None
