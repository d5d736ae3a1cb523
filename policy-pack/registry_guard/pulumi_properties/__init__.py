"""Pulumi resource properties (engine wire names, camelCase) to the catalogue's normalized model.

The policy pack adapts each resource of a preview or update, and the audit each resource of a
`pulumi stack export`, with these same functions, so "declared" means exactly what the pack judged.
Nothing here decides what is compliant; a value not known yet stays `UNKNOWN` (see `reader`).

* `types`: the type tokens read, and which subjects of the model each yields.
* `reader`: property access that keeps unknowns; `targets`: full names of what a resource manages.
* `iam`, `acl`, `repository`, `storage`, `images`: one resource shape each.
* `declarations`: the IAM resources of a whole stack, judged together.
"""

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
