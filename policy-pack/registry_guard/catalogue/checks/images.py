"""Images: every tagged image carries a version tag."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..model import RegistryState
from ..settings import Settings


def version_tag_required(state: RegistryState, settings: Settings) -> Iterator[Finding | Undetermined]:
    # Untagged digests are not judged here: multi-arch children and superseded pushes are untagged by
    # nature, and cleanup policies (not this rule) decide their fate.
    for image in state.images:
        if not image.tags or any(settings.is_version_tag(tag) for tag in image.tags):
            continue
        yield Finding(
            "version-tag-required", str(image.ref),
            f"{image.package} ({image.digest or 'to be built'}) is tagged only {', '.join(sorted(image.tags))}: "
            f"no tag matches the version pattern",
            {"repository": image.repository.name, "package": image.package, "digest": image.digest,
             "tags": sorted(image.tags), "versionTagPattern": settings.version_tag_pattern},
        )
