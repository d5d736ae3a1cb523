"""Principals and roles, compared the way Google Cloud IAM compares them.

Why this is its own module: every IAM shape (member, binding, policy JSON, ACL entity, live
policy) funnels through these few functions, so a public principal cannot hide behind a spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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

MEMBER_PREFIXES = ("user:", "group:", "serviceAccount:", "domain:", "principal://", "principalSet://")
_PREFIX_RE = re.compile(r"^(user|group|serviceAccount|domain|deleted|projectOwner|projectEditor|projectViewer):",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Principal:
    """A member string parsed: `kind` is user, group, serviceAccount, domain, public, principal,
    principalSet, project or unknown; `deleted` marks `deleted:` members (still judged: a deleted
    service account can be undeleted within 30 days and gets its grants back)."""

    raw: str
    kind: str
    value: str
    deleted: bool = False

    @property
    def canonical(self) -> str:
        if self.kind == "public":
            return self.value
        if self.kind in ("principal", "principalSet"):
            return self.value
        return f"{self.kind}:{self.value}"

    @property
    def is_public(self) -> bool:
        return self.kind == "public"

    @property
    def is_personal(self) -> bool:
        return self.kind == "user"

    @property
    def is_consumer_account(self) -> bool:
        return self.kind in ("user", "group", "serviceAccount") and self.value.endswith(
            tuple("@" + d for d in CONSUMER_DOMAINS)
        )


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


def is_admin_role(role: str, extra_admin_roles: tuple[str, ...] = ()) -> bool:
    return role in ADMIN_ROLES or role in extra_admin_roles


def is_write_role(role: str, extra_admin_roles: tuple[str, ...] = ()) -> bool:
    return role in WRITE_ROLES or role in extra_admin_roles


def is_registry_role(role: str) -> bool:
    """At project level, does this role reach the registry? Custom roles count: their permissions are
    not known here, and failing closed is the point."""
    return (
        role.startswith(("roles/storage.", "roles/artifactregistry.", "projects/", "organizations/"))
        or role in BASIC_ROLES
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
