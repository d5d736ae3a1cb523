"""What the release rules share: which released versions a setting requires something of, and the trust the
settings configure."""

from __future__ import annotations

from fnmatch import fnmatchcase

from .model import Image
from .settings import Settings
from .signatures import KeylessIdentity, Trust, TrustedKey


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
