"""The Artifact Registry backend's config: repositories, labels, cleanup policy and the CMEK key.

Defaults are the safe choice for a registry of released model versions: cleanup never deletes a tag that
could be a version, and every repository carries an owner and model label when they are given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from registry_guard.catalogue.names import is_repository_id

from model_registry.config.errors import ConfigError
from model_registry.config.reader import ConfigReader
from model_registry.config.validators import (
    MAX_RETENTION_DAYS,
    check_label_value,
    check_labels,
    check_tag_prefix,
    is_region,
    is_zone,
    kms_key_location,
)

# The keys that only mean something for this backend.
AR_KEYS = (
    "location",
    "repositories",
    "labels",
    "owner",
    "untaggedRetentionDays",
    "keepRecentVersions",
    "versionTagPrefixes",
    "cleanupDryRun",
    "kmsKeyName",
)

DEFAULT_LOCATION = "us-central1"
AR_MULTI_REGIONS = ("us", "europe", "asia")
DEFAULT_REPOSITORIES = ("models",)
DEFAULT_UNTAGGED_RETENTION_DAYS = 14
DEFAULT_KEEP_RECENT_VERSIONS = 10
# "v" plus every digit: together they match every tag the policy pack's default versionTagPattern
# (semantic versioning with an optional v) accepts, so cleanup can never delete a released version.
# Over-keeping a non-version tag such as "very-old" is the safe direction.
DEFAULT_VERSION_TAG_PREFIXES = ("v", *(str(d) for d in range(10)))
MAX_LABELS = 64


@dataclass(frozen=True)
class RepositorySpec:
    """One Artifact Registry Docker repository, e.g. one per model family."""

    name: str
    description: str
    labels: tuple[tuple[str, str], ...]  # final labels (owner, model, user labels), sorted

    @property
    def model(self) -> str:
        """The image name used in the example commands: the `model` label."""
        return dict(self.labels).get("model", self.name)


@dataclass(frozen=True)
class CleanupSpec:
    untagged_retention_days: int = DEFAULT_UNTAGGED_RETENTION_DAYS
    keep_recent_versions: int = DEFAULT_KEEP_RECENT_VERSIONS
    version_tag_prefixes: tuple[str, ...] = DEFAULT_VERSION_TAG_PREFIXES
    dry_run: bool = False


@dataclass(frozen=True)
class ArtifactRegistryConfig:
    location: str
    repositories: tuple[RepositorySpec, ...]
    cleanup: CleanupSpec
    kms_key_name: str | None = None
    labels: tuple[tuple[str, str], ...] = ()  # the stack labels (labels + owner), sorted


def read_artifact_registry(reader: ConfigReader) -> ArtifactRegistryConfig:
    """The backend's keys. The order of the checks decides which error a config with several mistakes
    reports first, so it stays as it is: location, labels and owner, cleanup, KMS key, repositories."""
    location = _location(reader)

    stack_labels = check_labels(reader.json("labels", {}, "an object of labels"), reader.key("labels"))
    owner = reader.optional_string("owner")
    if owner is not None:
        check_label_value(owner, reader.key("owner"))
        if stack_labels.get("owner", owner) != owner:
            raise ConfigError(
                f"{reader.key('labels')}.owner: {stack_labels['owner']!r} contradicts "
                f"{reader.key('owner')} {owner!r}; set one of them"
            )
        stack_labels["owner"] = owner

    prefixes = reader.string_list("versionTagPrefixes", DEFAULT_VERSION_TAG_PREFIXES, "tag prefixes")
    if not prefixes:
        raise ConfigError(
            f"{reader.key('versionTagPrefixes')}: must not be empty: "
            "cleanup would then protect no version tag"
        )
    for index, prefix in enumerate(prefixes):
        check_tag_prefix(prefix, f"{reader.key('versionTagPrefixes')}[{index}]")

    cleanup = CleanupSpec(
        untagged_retention_days=reader.integer(
            "untaggedRetentionDays", DEFAULT_UNTAGGED_RETENTION_DAYS, 1, MAX_RETENTION_DAYS
        ),
        keep_recent_versions=reader.integer("keepRecentVersions", DEFAULT_KEEP_RECENT_VERSIONS, 1, 10000),
        version_tag_prefixes=prefixes,
        dry_run=reader.boolean("cleanupDryRun", False),
    )

    kms_key_name = reader.optional_string("kmsKeyName")
    if kms_key_name is not None:
        key_location = kms_key_location(kms_key_name, reader.key("kmsKeyName"))
        # Artifact Registry only accepts a key in the repository's own location.
        if key_location != location:
            raise ConfigError(
                f"{reader.key('kmsKeyName')}: the key is in {key_location} but the repositories are in "
                f"{location}; use a key in {location}"
            )

    return ArtifactRegistryConfig(
        location,
        _repositories(reader, stack_labels),
        cleanup,
        kms_key_name,
        tuple(sorted(stack_labels.items())),
    )


def _location(reader: ConfigReader) -> str:
    value = reader.string("location", DEFAULT_LOCATION)
    if is_zone(value):
        raise ConfigError(
            f"{reader.key('location')}: {value!r} is a zone, not a location; use its region "
            f"({value.rsplit('-', 1)[0]}) or a multi-region ({', '.join(AR_MULTI_REGIONS)})"
        )
    if not (is_region(value) or value in AR_MULTI_REGIONS):
        raise ConfigError(
            f"{reader.key('location')}: {value!r} is not an Artifact Registry location; allowed: a region "
            f"such as us-central1 or a multi-region ({', '.join(AR_MULTI_REGIONS)})"
        )
    return value


def _repositories(reader: ConfigReader, stack_labels: Mapping[str, str]) -> tuple[RepositorySpec, ...]:
    key = reader.key("repositories")
    entries = reader.json("repositories", list(DEFAULT_REPOSITORIES), "a list of repository names or objects")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(
            f"{key}: expected a non-empty list of repository names or {{name, description?, labels?}}"
        )
    specs: list[RepositorySpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{key}[{index}]"
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            raise ConfigError(
                f"{where}: expected a repository name or {{name, description?, labels?}}, got {entry!r}"
            )
        extra = sorted(set(entry) - {"name", "description", "labels"})
        if extra:
            raise ConfigError(f"{where}.{extra[0]}: unknown field; allowed: name, description, labels")
        name = entry.get("name")
        if not isinstance(name, str) or not is_repository_id(name):
            raise ConfigError(
                f"{where}.name: {name!r} is not a repository id; use 1-63 lowercase letters, digits and -, "
                "starting with a letter and not ending with -"
            )
        if name in seen:
            raise ConfigError(f"{where}.name: repository {name!r} is listed twice")
        seen.add(name)
        description = entry.get("description", f"Versioned model images: {name}")
        if not isinstance(description, str):
            raise ConfigError(f"{where}.description: expected a string, got {description!r}")
        # Precedence: model defaults to the repository name, then stack labels, then the entry's own.
        labels = {"model": name, **stack_labels, **check_labels(entry.get("labels", {}), f"{where}.labels")}
        if len(labels) > MAX_LABELS:
            raise ConfigError(
                f"{where}.labels: {len(labels)} labels; a repository can carry at most {MAX_LABELS}"
            )
        specs.append(RepositorySpec(name, description, tuple(sorted(labels.items()))))
    return tuple(specs)
