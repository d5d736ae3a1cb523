"""One resource's properties to the model: dispatch on its type token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..catalogue.model import RegistryState
from .acl import adapt_acl
from .iam import adapt_iam
from .images import adapt_image
from .reader import PropertyReader
from .repository import adapt_repository
from .storage import adapt_bucket, adapt_container_registry
from .types import ACL_TYPES, AR_REPOSITORY, BUCKET, CONTAINER_REGISTRY, IAM_TYPES, IMAGE_TYPES


@dataclass(frozen=True)
class Adapted:
    """One resource as the catalogue sees it, and every property path that was unknown, so a
    "could not judge" can say exactly what was missing."""

    state: RegistryState = field(default_factory=RegistryState)
    unknown_paths: tuple[str, ...] = ()


def adapt(
    resource_type: str, props: Any, urn: str = "", name: str = "", default_project: str | None = None
) -> Adapted | None:
    """The catalogue's view of one resource; None for types the catalogue has no opinion on."""
    reader = PropertyReader()
    if resource_type in IAM_TYPES:
        state = adapt_iam(resource_type, props, urn, default_project, reader)
    elif resource_type in ACL_TYPES:
        state = adapt_acl(resource_type, props, urn, reader)
    elif resource_type == AR_REPOSITORY:
        state = adapt_repository(props, urn, name, default_project, reader)
    elif resource_type == BUCKET:
        state = adapt_bucket(props, urn, name, reader)
    elif resource_type == CONTAINER_REGISTRY:
        state = adapt_container_registry(props, urn, default_project, reader)
    elif resource_type in IMAGE_TYPES:
        state = adapt_image(resource_type, props, urn, reader)
    else:
        return None
    return Adapted(state, tuple(reader.unknown_paths))
