"""What the history rules share: the version tags an inventory records, and what a scan could not read."""

from __future__ import annotations

from collections.abc import Collection

from .model import Image
from .settings import Settings

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
    """Was the repository, or this one image path of it, left unread? An entry of `unread` is a repository
    name, or `repository/package` for one image path of a registry."""
    return repository in unread or f"{repository}/{package}" in unread
