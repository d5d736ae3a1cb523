"""Normalized states for the rules' live cases: the shapes the nightly audit's sources produce."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from registry_guard.catalogue.model import Grant, Image, Repository, ResourceRef

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
