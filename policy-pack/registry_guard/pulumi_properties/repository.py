"""An Artifact Registry repository resource: format, mode, immutable tags, cleanup, scanning, key, labels."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ..catalogue.model import (
    UNKNOWN,
    UNKNOWN_NAME,
    CleanupCondition,
    CleanupPolicy,
    MostRecentVersions,
    RegistryState,
    Repository,
    ResourceRef,
    Unknown,
    is_unknown,
)
from .reader import PropertyReader
from .targets import repository_name

_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_unit_duration(value: object) -> float | None:
    """Seconds of an age written with units, as cleanup conditions are: "1209600s", "14d", "1h30m".

    Unparseable counts as 0 s: a DELETE of unknown age is treated as deleting everything (fail closed),
    and any age on a KEEP already limits it."""
    if value is None or is_unknown(value):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().lower()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return 0.0
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def _prefixes(reader: PropertyReader, cond: Any, key: str, path: str) -> tuple[str, ...]:
    items = reader.items(cond, key, f"{path}.{key}")
    if items is None:
        return ()
    if is_unknown(items):
        return (UNKNOWN_NAME,)  # a prefix nothing matches: judged as present but unknown
    return tuple(UNKNOWN_NAME if is_unknown(i) else str(i) for i in items)


def _condition(reader: PropertyReader, cond: Mapping[str, Any], path: str) -> CleanupCondition | Unknown:
    tag_state = reader.text(cond, "tagState", f"{path}.condition.tagState")
    if is_unknown(tag_state):
        return UNKNOWN
    older = reader.read(cond, "olderThan", f"{path}.condition.olderThan")
    newer = reader.read(cond, "newerThan", f"{path}.condition.newerThan")
    return CleanupCondition(
        tag_state=tag_state,
        tag_prefixes=_prefixes(reader, cond, "tagPrefixes", f"{path}.condition"),
        version_name_prefixes=_prefixes(reader, cond, "versionNamePrefixes", f"{path}.condition"),
        package_name_prefixes=_prefixes(reader, cond, "packageNamePrefixes", f"{path}.condition"),
        older_than_seconds=0.0 if is_unknown(older) else parse_unit_duration(older),
        newer_than_seconds=0.0 if is_unknown(newer) else parse_unit_duration(newer),
    )


def _cleanup_policy(reader: PropertyReader, item: Any, index: int) -> CleanupPolicy | Unknown:
    path = f".cleanupPolicies[{index}]"
    if is_unknown(item) or not isinstance(item, Mapping):
        return UNKNOWN
    action = reader.text(item, "action", f"{path}.action")
    if is_unknown(action):
        return UNKNOWN
    cond = reader.mapping(item, "condition", f"{path}.condition")
    if is_unknown(cond):
        return UNKNOWN
    condition = None if cond is None else _condition(reader, cond, path)
    if is_unknown(condition):
        return UNKNOWN
    recent = reader.mapping(item, "mostRecentVersions", f"{path}.mostRecentVersions")
    if is_unknown(recent):
        return UNKNOWN
    most_recent = None
    if recent is not None:
        keep = reader.read(recent, "keepCount", f"{path}.mostRecentVersions.keepCount")
        most_recent = MostRecentVersions(
            keep_count=None if keep is None or is_unknown(keep) else int(keep),
            package_name_prefixes=_prefixes(reader, recent, "packageNamePrefixes", f"{path}.mostRecentVersions"),
        )
    policy_id = reader.text(item, "id", f"{path}.id")
    return CleanupPolicy(
        id=f"#{index}" if policy_id is None or is_unknown(policy_id) else policy_id,
        action=action or "DELETE",
        condition=condition,
        most_recent_versions=most_recent,
    )


def _cleanup_policies(reader: PropertyReader, props: Any) -> tuple[CleanupPolicy, ...] | Unknown:
    """Every policy, or UNKNOWN when any part that decides what it deletes is not known yet."""
    items = reader.items(props, "cleanupPolicies", ".cleanupPolicies")
    if items is None:
        return ()
    if is_unknown(items):
        return UNKNOWN
    policies: list[CleanupPolicy] = []
    for index, item in enumerate(items):
        policy = _cleanup_policy(reader, item, index)
        if is_unknown(policy):
            return UNKNOWN
        policies.append(policy)
    return tuple(policies)


def _labels(reader: PropertyReader, props: Any) -> Mapping[str, str] | Unknown:
    labels = reader.mapping(props, "labels", ".labels")
    if is_unknown(labels):
        return UNKNOWN
    merged: dict[str, str] = {}
    # Provider defaultLabels reach the repository through effectiveLabels (added by the provider's Check).
    effective = reader.mapping(props, "effectiveLabels", ".effectiveLabels")
    for source in (effective, labels):
        if source is None or is_unknown(source):
            continue
        for key in source:
            value = reader.read(source, key, f".labels.{key}")
            merged[str(key)] = "" if value is None else (UNKNOWN_NAME if is_unknown(value) else str(value))
    return merged


def _immutable_tags(reader: PropertyReader, props: Any) -> bool | Unknown:
    docker = reader.mapping(props, "dockerConfig", ".dockerConfig")
    if docker is None:
        return False
    if is_unknown(docker):
        return UNKNOWN
    value = reader.read(docker, "immutableTags", ".dockerConfig.immutableTags")
    return UNKNOWN if is_unknown(value) else value is True


def _scanning(reader: PropertyReader, props: Any) -> str | Unknown:
    config = reader.mapping(props, "vulnerabilityScanningConfig", ".vulnerabilityScanningConfig")
    if config is None:
        return "INHERITED"
    if is_unknown(config):
        return UNKNOWN
    value = reader.text(config, "enablementConfig", ".vulnerabilityScanningConfig.enablementConfig")
    return "INHERITED" if value is None else value


def adapt_repository(
    props: Any, urn: str, name: str, default_project: str | None, reader: PropertyReader
) -> RegistryState:
    repo_id = reader.read(props, "repositoryId", ".repositoryId") or name
    ref = ResourceRef(
        "repository",
        repository_name(
            repo_id,
            reader.read(props, "location", ".location"),
            reader.read(props, "project", ".project") or default_project,
        ),
    )
    fmt = reader.text(props, "format", ".format")
    immutable = _immutable_tags(reader, props)
    scanning = _scanning(reader, props)
    dry_run = reader.read(props, "cleanupPolicyDryRun", ".cleanupPolicyDryRun")
    mode = reader.text(props, "mode", ".mode")
    kms = reader.text(props, "kmsKeyName", ".kmsKeyName")
    repository = Repository(
        ref=ref,
        # format is required by the provider: a missing one means we cannot tell, not "DOCKER".
        format=UNKNOWN if fmt is None else fmt,
        mode=mode or "STANDARD_REPOSITORY",
        immutable_tags=immutable,
        cleanup_policies=_cleanup_policies(reader, props),
        cleanup_dry_run=UNKNOWN if is_unknown(dry_run) else dry_run is True,
        scanning=scanning,
        kms_key_name=UNKNOWN if is_unknown(kms) else (kms or None),
        labels=_labels(reader, props),
        source=urn,
    )
    return RegistryState(repositories=(repository,))
