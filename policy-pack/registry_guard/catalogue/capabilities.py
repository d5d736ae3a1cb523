"""What a principal can do to a repository or bucket of the registry, in IAM permissions.

Why permissions and not role names: a role is only a list of permissions (predefined or custom), and the
question a review asks ("who can delete our released models?") is answered by the permissions a role holds,
wherever it is granted. Each capability is satisfied by any one of its alternatives, and an alternative
needs all of its permissions.

Permissions (https://cloud.google.com/artifact-registry/docs/access-control#permissions,
https://cloud.google.com/storage/docs/access-control/iam-permissions):

* Artifact Registry: pulling is `repositories.downloadArtifacts`, pushing `repositories.uploadArtifacts`;
  tags are moved with `tags.update` (or deleted and created again); versions are deleted one by one
  (`versions.delete`), in bulk (`repositories.deleteArtifacts`) or with the repository
  (`repositories.delete`); the repository's IAM is `repositories.setIamPolicy`.
* A Container Registry bucket holds images as objects: pulling is `storage.objects.get`, pushing
  `storage.objects.create`; a tag is an object that is overwritten, which needs `storage.objects.delete` as
  well; deleting is `storage.objects.delete` (or `storage.buckets.delete`); IAM is `storage.buckets.setIamPolicy`.
* Whoever may set the IAM policy of the project, folder or organization above may give themselves any role
  on everything below it: that is changing IAM too.
* Acting as a service account (https://cloud.google.com/iam/docs/service-account-impersonation): creating
  its tokens or signing as it (`getAccessToken`, `signBlob`, `signJwt`, `implicitDelegation`), attaching it
  (`actAs`), creating a key for it (`serviceAccountKeys.create`) or granting oneself any of that on it
  (`serviceAccounts.setIamPolicy`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Final, Literal

Capability = Literal["pull", "push", "move-tags", "delete-versions", "change-iam"]
CAPABILITIES: Final[tuple[Capability, ...]] = ("pull", "push", "move-tags", "delete-versions", "change-iam")
CAPABILITY_TITLES: Final[Mapping[Capability, str]] = {
    "pull": "pull",
    "push": "push new versions",
    "move-tags": "move or overwrite tags",
    "delete-versions": "delete versions",
    "change-iam": "change IAM",
}
# What a write is, for the rules on writers: everything but pulling and changing IAM.
WRITE_CAPABILITIES: Final[frozenset[Capability]] = frozenset({"push", "move-tags", "delete-versions"})

ResourceKind = Literal["repository", "bucket"]

_AR_NEEDS: Final[Mapping[Capability, tuple[frozenset[str], ...]]] = {
    "pull": (frozenset({"artifactregistry.repositories.downloadArtifacts"}),),
    "push": (frozenset({"artifactregistry.repositories.uploadArtifacts"}),),
    "move-tags": (frozenset({"artifactregistry.tags.update"}),
                  frozenset({"artifactregistry.tags.delete", "artifactregistry.tags.create"})),
    "delete-versions": (frozenset({"artifactregistry.versions.delete"}),
                        frozenset({"artifactregistry.repositories.deleteArtifacts"}),
                        frozenset({"artifactregistry.repositories.delete"})),
    "change-iam": (frozenset({"artifactregistry.repositories.setIamPolicy"}),),
}
_GCS_NEEDS: Final[Mapping[Capability, tuple[frozenset[str], ...]]] = {
    "pull": (frozenset({"storage.objects.get"}),),
    "push": (frozenset({"storage.objects.create"}),),
    "move-tags": (frozenset({"storage.objects.create", "storage.objects.delete"}),),
    "delete-versions": (frozenset({"storage.objects.delete"}), frozenset({"storage.buckets.delete"})),
    "change-iam": (frozenset({"storage.buckets.setIamPolicy"}),),
}
# Setting the IAM policy of an ancestor: a grant of anything below it.
ANCESTOR_SET_IAM: Final[Mapping[str, str]] = {
    "project": "resourcemanager.projects.setIamPolicy",
    "folder": "resourcemanager.folders.setIamPolicy",
    "organization": "resourcemanager.organizations.setIamPolicy",
}
ACTING_PERMISSIONS: Final[frozenset[str]] = frozenset({
    "iam.serviceAccounts.getAccessToken",
    "iam.serviceAccounts.signBlob",
    "iam.serviceAccounts.signJwt",
    "iam.serviceAccounts.implicitDelegation",
    "iam.serviceAccounts.actAs",
    "iam.serviceAccountKeys.create",
    "iam.serviceAccounts.setIamPolicy",
})

# ACL entries have no roles: what each grants, in the permissions above
# (https://cloud.google.com/storage/docs/access-control/lists#permissions). A bucket READER may list the
# bucket, not read its objects; an object or default object ACL READER reads the object(s).
_ACL_PERMISSIONS: Final[Mapping[tuple[str, str], frozenset[str]]] = {
    ("bucket-acl", "acl:READER"): frozenset(),
    ("bucket-acl", "acl:WRITER"): frozenset({"storage.objects.create", "storage.objects.delete"}),
    ("bucket-acl", "acl:OWNER"): frozenset({"storage.objects.create", "storage.objects.delete",
                                            "storage.buckets.setIamPolicy"}),
    ("default-object-acl", "acl:READER"): frozenset({"storage.objects.get"}),
    ("default-object-acl", "acl:OWNER"): frozenset({"storage.objects.get"}),
    ("object-acl", "acl:READER"): frozenset({"storage.objects.get"}),
    ("object-acl", "acl:OWNER"): frozenset({"storage.objects.get"}),
}

RELEVANT_PERMISSIONS: Final[frozenset[str]] = frozenset(
    {p for needs in (*_AR_NEEDS.values(), *_GCS_NEEDS.values()) for alternative in needs for p in alternative}
    | set(ANCESTOR_SET_IAM.values()) | ACTING_PERMISSIONS
)


def permissions_for(kind: ResourceKind) -> frozenset[str]:
    """Every permission some capability on a repository or bucket needs (what to ask an analyzer about)."""
    needs = _AR_NEEDS if kind == "repository" else _GCS_NEEDS
    return frozenset(p for alternatives in needs.values() for alternative in alternatives for p in alternative)


def acl_permissions(shape: str, role: str) -> frozenset[str] | None:
    """The permissions an ACL entry grants; None when the shape and role are not an ACL's."""
    return _ACL_PERMISSIONS.get((shape, role))


def capabilities_of(permissions: Iterable[str], kind: ResourceKind) -> tuple[Capability, ...]:
    """What `permissions`, held on a repository or bucket (or above it), allow there, in CAPABILITIES order."""
    held = frozenset(permissions)
    needs = _AR_NEEDS if kind == "repository" else _GCS_NEEDS
    return tuple(c for c in CAPABILITIES if any(alternative <= held for alternative in needs[c]))


def can_act_as(permissions: Iterable[str]) -> bool:
    return not ACTING_PERMISSIONS.isdisjoint(permissions)


@dataclass(frozen=True)
class PredefinedRole:
    name: str
    title: str
    stage: str
    permissions: frozenset[str]  # only the RELEVANT_PERMISSIONS the role holds


@dataclass(frozen=True)
class PredefinedRoles:
    """The bundled snapshot of Google's predefined roles, each cut to the permissions that matter here.

    Only an offline fallback: a scan asks the IAM roles API first, and says in its report when a role's
    permissions came from this snapshot (and of which date), since Google changes predefined roles."""

    as_of: str
    source: str
    roles: Mapping[str, PredefinedRole]


_SNAPSHOT: Final = "predefined_roles.json"


@functools.cache
def predefined_roles() -> PredefinedRoles:
    raw = json.loads(resources.files(__package__).joinpath(_SNAPSHOT).read_text(encoding="utf-8"))
    roles = {name: PredefinedRole(name, body["title"], body["stage"], frozenset(body["permissions"]))
             for name, body in raw["roles"].items()}
    return PredefinedRoles(raw["as_of"], raw["source"], roles)


def is_predefined_role(role: str) -> bool:
    """`roles/…` names Google's roles; `projects/P/roles/…` and `organizations/O/roles/…` custom ones."""
    return role.startswith("roles/")
