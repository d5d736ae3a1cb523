"""What the release rules share: which released versions a setting requires something of, and the trust the
settings configure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase

from .model import Image, RegistryState
from .settings import Settings
from .signatures import KeylessIdentity, Trust, TrustedKey

_AR_REPOSITORY = re.compile(r"projects/([^/]+)/locations/([^/]+)/repositories/([^/]+)")
# The tag of rules that judge what a released image says about itself: a scan reads released images' configs
# and annotations when one of them runs.
METADATA_TAG = "image-metadata"
# The settings that select releases whose signatures and attestations a rule verifies: a scan reads their
# content when a running rule reads one that selects any.
SIGNATURE_SETTINGS = ("signedReleases", "provenanceReleases")


def required_tags(image: Image, settings: Settings, patterns: tuple[str, ...]) -> list[str]:
    """The version tags of `image` that `patterns` (fnmatch over REPOSITORY/IMAGE:TAG) select."""
    if not image.digest or not patterns:
        return []
    return sorted(tag for tag in image.tags if settings.is_version_tag(tag)
                  and any(fnmatchcase(f"{image.repository.name}/{image.package}:{tag}", p) for p in patterns))


def trust_of(settings: Settings) -> Trust:
    return Trust(
        keys=tuple(TrustedKey(name, pem) for name, pem in settings.trusted_keys),
        identities=tuple(KeylessIdentity(issuer, pattern) for issuer, pattern in settings.trusted_identities),
        trusted_root=settings.sigstore_trusted_root or None,
    )


def listed_by_artifact_registry(image: Image) -> bool:
    """Whether the image was read through the Artifact Registry API (its repository is one of its resources),
    which lists images, tags and signatures but serves no manifest, config or signature content."""
    return _AR_REPOSITORY.fullmatch(image.repository.name) is not None


def _docker_path(image: Image) -> tuple[str, str, str] | None:
    """Where an Artifact Registry image is served on the registry's Docker endpoint: (host, package path,
    digest), e.g. ("us-central1-docker.pkg.dev", "p/models/llm", …); None for any other image."""
    found = _AR_REPOSITORY.fullmatch(image.repository.name)
    if found is None or not image.digest:
        return None
    project, location, repository = found.groups()
    return f"{location}-docker.pkg.dev", f"{project}/{repository}/{image.package}", image.digest


def released(state: RegistryState, settings: Settings, patterns: tuple[str, ...]) -> Iterator[tuple[Image, list[str]]]:
    """Each image with version tags that `patterns` select, and those tags. An image read through the Artifact
    Registry API that the same scan also read through the registry's Docker endpoint is judged there, where its
    signatures were read, and not twice."""
    if not patterns:
        return
    served = {(image.repository.name, image.package, image.digest) for image in state.images
              if image.digest and not _AR_REPOSITORY.fullmatch(image.repository.name)}
    for image in state.images:
        tags = required_tags(image, settings, patterns)
        if tags and _docker_path(image) not in served:
            yield image, tags
