"""The full name of what a resource manages, however the stack spelled the reference."""

from __future__ import annotations

from ..catalogue.container_registry import container_registry_bucket_name
from ..catalogue.model import UNKNOWN, Unknown, is_unknown
from .reader import show


def repository_name(repository: object, location: object, project: object) -> str:
    """Artifact Registry's full repository name: `projects/P/locations/L/repositories/R`."""
    if isinstance(repository, str) and repository.startswith("projects/"):
        return repository
    return f"projects/{show(project)}/locations/{show(location)}/repositories/{show(repository)}"


def container_registry_bucket(location: object, project: object) -> str | Unknown:
    """The bucket behind a `gcp.container.Registry` at `location` (None for gcr.io) in `project`."""
    if is_unknown(project) or is_unknown(location):
        return UNKNOWN
    return container_registry_bucket_name(show(project), location if isinstance(location, str) else None)
