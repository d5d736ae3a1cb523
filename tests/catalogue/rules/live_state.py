"""Normalized states for the rules' live cases: the shapes the nightly audit's sources produce."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from registry_guard.catalogue.access_model import AccessContext, RoleDefinition
from registry_guard.catalogue.capabilities import predefined_roles
from registry_guard.catalogue.model import UNKNOWN, Grant, Image, RegistryState, Repository, ResourceRef

NOW = datetime(2026, 11, 25, tzinfo=UTC)
REPO_REF = ResourceRef("repository", "projects/p/locations/l/repositories/r")
BUCKET_REF = ResourceRef("bucket", "artifacts.p.appspot.com")

HARDENED = Repository(
    ref=REPO_REF, immutable_tags=True, scanning="INHERITED", scanning_state="SCANNING_ACTIVE",
    kms_key_name="projects/p/locations/l/keyRings/r/cryptoKeys/k", labels={"owner": "ml", "model": "llm"},
)


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def image(tags: tuple[str, ...], days: int = 1, package: str = "llm", image_digest: str | None = None) -> Image:
    """An image of REPO_REF uploaded `days` before NOW."""
    return Image(REPO_REF, package, image_digest or digest(f"{package}{tags}{days}"), tags,
                 uploaded=NOW - timedelta(days=days))


def repository(**changes: Any) -> Repository:
    """A repository read live with every setting the rules want, then `changes`."""
    return dataclasses.replace(HARDENED, **changes)


def member(role: str, principal: str, target: ResourceRef = REPO_REF) -> Grant:
    """One member of a live IAM policy."""
    return Grant(target, role, principal, "iam-policy", source="getIamPolicy")


# Effective access (scan --effective-access): project p sits in folder 20 under organization 1.
PROJECT_REF = ResourceRef("project", "p")
FOLDER_REF = ResourceRef("folder", "folders/20")
ORG_REF = ResourceRef("organization", "organizations/1")
CI = "ci@p.iam.gserviceaccount.com"
CI_REF = ResourceRef("service-account", CI)


def effective(*grants: Grant, unread: Mapping[ResourceRef, str] | None = None,
              custom_roles: Mapping[str, frozenset[str] | None] | None = None) -> RegistryState:
    """A live state read with effective access: the repository, `grants` on it, above it and on service account
    CI (whose IAM was read), each predefined role's permissions from the bundled snapshot, `custom_roles`
    (None: could not be read), and the policies in `unread` not read."""
    snapshot = predefined_roles().roles
    roles = {g.role: RoleDefinition(str(g.role), snapshot[str(g.role)].permissions, "test")
             for g in grants if str(g.role) in snapshot}
    for name, permissions in (custom_roles or {}).items():
        roles[name] = RoleDefinition(name, UNKNOWN if permissions is None else permissions, "test",
                                     problem=None if permissions is not None else "Forbidden (403)")
    context = AccessContext(parents={PROJECT_REF: FOLDER_REF, FOLDER_REF: ORG_REF, ORG_REF: None}, roles=roles,
                            unread=dict(unread or {}), accounts_read=frozenset({CI}))
    return RegistryState(repositories=(HARDENED,), grants=grants, access=context)
