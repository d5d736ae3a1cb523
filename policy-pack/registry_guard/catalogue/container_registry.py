"""Container Registry (gcr.io) bucket names: the one answer to "does this bucket back a registry?".

Deploy time (the pack's adapter) and the nightly audit (the bucket source) both ask; asking here keeps
the `legacy-gcr` verdict the same at both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# Container Registry's four hosts; the bucket's prefix is the host's region ("" for gcr.io).
REGIONS: Final = ("us", "eu", "asia")

_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_BUCKET: Final = re.compile(
    rf"^(?:(?P<region>{'|'.join(REGIONS)})\.)?artifacts\."
    # A domain-scoped project `example.com:proj` has its bucket under `proj.example.com.a.appspot.com`.
    rf"(?:(?P<scoped>{_LABEL})\.(?P<domain>{_LABEL}(?:\.{_LABEL})+)\.a|(?P<project>{_LABEL}))"
    r"\.appspot\.com$"
)


@dataclass(frozen=True)
class ContainerRegistryBucket:
    """What a Container Registry bucket's name says: its host and the project it belongs to."""

    host: str  # gcr.io, us.gcr.io, eu.gcr.io or asia.gcr.io
    project: str  # the project ID; `example.com:proj` for a domain-scoped project

    @property
    def registry(self) -> str:
        """`eu.gcr.io/p`; a domain-scoped project's colon becomes a slash, as in its image paths."""
        return f"{self.host}/{self.project.replace(':', '/', 1)}"


def container_registry_host(location: str | None) -> str:
    """The host for a registry location: gcr.io when unset, else us.gcr.io, eu.gcr.io or asia.gcr.io."""
    return f"{location.lower()}.gcr.io" if location else "gcr.io"


def container_registry_of_bucket(name: str) -> ContainerRegistryBucket | None:
    """The registry a bucket backs, or None when the name is not one Container Registry creates.

    Google documents the bucket of each host as `artifacts.PROJECT-ID.appspot.com` (gcr.io) or
    `REGION.artifacts.PROJECT-ID.appspot.com` with REGION one of us, eu, asia
    (https://cloud.google.com/container-registry/docs/access-control). A domain-scoped project
    `DOMAIN:PROJECT` gets `artifacts.PROJECT.DOMAIN.a.appspot.com`: that is not in the docs page but in
    Google's own Cloud SDK (`_BucketSuffix` in its GCR utilities, which also accepts only these three
    regions). Any other prefix or shape is not a registry bucket. Bucket names are lowercase, so case is
    ignored.
    """
    match = _BUCKET.match(name.lower())
    if match is None:
        return None
    region = match["region"]
    project = match["project"] or f"{match['domain']}:{match['scoped']}"
    return ContainerRegistryBucket(container_registry_host(region), project)


def container_registry_bucket_name(project: str, location: str | None = None) -> str:
    """The bucket Container Registry uses for `project` at `location` (US, EU, ASIA; None for gcr.io):
    the inverse of `container_registry_of_bucket`, so a declared registry and its live bucket meet."""
    prefix = f"{location.lower()}." if location else ""
    domain, colon, scoped = project.partition(":")
    suffix = f"{scoped}.{domain}.a" if colon else project
    return f"{prefix}artifacts.{suffix}.appspot.com"


__all__ = [
    "REGIONS",
    "ContainerRegistryBucket",
    "container_registry_bucket_name",
    "container_registry_host",
    "container_registry_of_bucket",
]
