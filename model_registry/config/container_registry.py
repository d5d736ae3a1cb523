"""The legacy Container Registry backend's config: which gcr.io host, and so which backing bucket."""

from __future__ import annotations

from dataclasses import dataclass

from model_registry.config.errors import ConfigError
from model_registry.config.reader import ConfigReader
from model_registry.config.validators import is_region, is_zone

# The keys that only mean something for this backend.
GCR_KEYS = ("gcrLocation",)
GCR_LOCATIONS = ("US", "EU", "ASIA")


@dataclass(frozen=True)
class GcrConfig:
    location: str | None  # US, EU, ASIA, or None for gcr.io


def read_container_registry(reader: ConfigReader) -> GcrConfig:
    return GcrConfig(_location(reader))


def _location(reader: ConfigReader) -> str | None:
    """Container Registry's locations are multi-regions only; a region or a zone (what Artifact Registry
    takes) is named as such in the message."""
    value = reader.optional_string("gcrLocation")
    if value is None:
        return None
    if is_zone(value.lower()) or is_region(value.lower()):
        kind = "a zone" if is_zone(value.lower()) else "a region"
        raise ConfigError(
            f"{reader.key('gcrLocation')}: {value!r} is {kind}, not a Container Registry location; "
            f"allowed: {', '.join(GCR_LOCATIONS)} or unset (gcr.io)"
        )
    if value.upper() not in GCR_LOCATIONS:
        raise ConfigError(
            f"{reader.key('gcrLocation')}: {value!r} is not a Container Registry location; "
            f"allowed: {', '.join(GCR_LOCATIONS)} or unset (gcr.io)"
        )
    return value.upper()
