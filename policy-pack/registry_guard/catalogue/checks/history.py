"""Compare an inventory with the one an earlier audit recorded: moved and deleted version tags."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from ..findings import Finding
from ..model import Image, RegistryState
from ..settings import Settings

TagKey = tuple[str, str, str]  # (repository name, package, tag)


def version_tags(images: tuple[Image, ...], settings: Settings) -> dict[TagKey, str]:
    """Every version tag -> the digest it points at."""
    return {
        (image.repository.name, image.package, tag): image.digest
        for image in images
        if image.digest
        for tag in image.tags
        if settings.is_version_tag(tag)
    }


def is_unread(repository: str, package: str, unread: Collection[str]) -> bool:
    return repository in unread or f"{repository}/{package}" in unread


def moved_and_deleted(
    previous: RegistryState,
    current: RegistryState,
    settings: Settings,
    unread_repositories: Collection[str] = (),
) -> Iterator[Finding]:
    """`unread_repositories` were not read completely now: their absences prove nothing. An entry is a
    repository name, or `repository/package` for one image path of a registry."""
    before = version_tags(previous.images, settings)
    now = version_tags(current.images, settings)
    live_digests = {(i.repository.name, i.package, i.digest) for i in current.images}
    for key, old_digest in sorted(before.items()):
        repository, package, tag = key
        resource = f"image:{repository}/{package}:{tag}"
        new_digest = now.get(key)
        if new_digest is not None and new_digest != old_digest:
            yield Finding(
                "version-tag-moved", resource,
                f"{package}:{tag} in {repository} now points to {new_digest}; an earlier audit recorded "
                f"{old_digest}",
                {"repository": repository, "package": package, "tag": tag,
                 "recorded_digest": old_digest, "current_digest": new_digest},
            )
        elif new_digest is None and not is_unread(repository, package, unread_repositories):
            digest_kept = (repository, package, old_digest) in live_digests
            yield Finding(
                "version-deleted", resource,
                f"{package}:{tag} in {repository} is gone"
                + (f"; its digest {old_digest} is still there under other tags or untagged" if digest_kept
                   else f", and so is its digest {old_digest}"),
                {"repository": repository, "package": package, "tag": tag, "recorded_digest": old_digest,
                 "digest_still_present": digest_kept},
            )
