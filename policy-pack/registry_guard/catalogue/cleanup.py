"""Artifact Registry cleanup policies: what they could delete, and what they would delete today.

Google's own dry run only writes logs, so this simulates the documented semantics on an inventory:
a version is deleted when some DELETE policy matches it and no KEEP policy does (KEEP wins);
conditions inside one policy are ANDed; `mostRecentVersions` keeps the newest N versions per package.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from .model import CleanupCondition, CleanupPolicy, Image
from .settings import Settings
from .version_patterns import uncovered_version


def _condition_matches(cond: CleanupCondition | None, image: Image, now: datetime) -> bool:
    if cond is None:
        return True
    state = (cond.tag_state or "ANY").upper()
    if state == "TAGGED" and not image.tags:
        return False
    if state == "UNTAGGED" and image.tags:
        return False
    if cond.tag_prefixes and not any(t.startswith(cond.tag_prefixes) for t in image.tags):
        return False
    if cond.version_name_prefixes and not (image.digest or "").startswith(cond.version_name_prefixes):
        return False
    if cond.package_name_prefixes and not image.package.startswith(cond.package_name_prefixes):
        return False
    if cond.older_than_seconds is not None or cond.newer_than_seconds is not None:
        if image.uploaded is None:
            return True  # age unknown: assume the worst, as the simulation must not under-report
        age = (now - image.uploaded).total_seconds()
        if cond.older_than_seconds is not None and age < cond.older_than_seconds:
            return False
        if cond.newer_than_seconds is not None and age > cond.newer_than_seconds:
            return False
    return True


def would_delete(policies: Iterable[CleanupPolicy], images: Iterable[Image], now: datetime) -> list[Image]:
    """Images the policies would delete from `images` (one repository) at `now`."""
    policies = list(policies)
    images = list(images)
    kept: set[int] = set()
    for policy in policies:
        if policy.action.upper() != "KEEP" or policy.most_recent_versions is None:
            continue
        prefixes = policy.most_recent_versions.package_name_prefixes
        count = policy.most_recent_versions.keep_count or 0
        per_package: dict[str, list[int]] = defaultdict(list)
        for index, image in enumerate(images):
            if not prefixes or image.package.startswith(prefixes):
                per_package[image.package].append(index)
        for indexes in per_package.values():
            newest = sorted(indexes, key=lambda i: images[i].uploaded or datetime.max.replace(tzinfo=now.tzinfo),
                            reverse=True)
            kept.update(newest[:count])
    deleted = []
    for index, image in enumerate(images):
        if index in kept:
            continue
        if any(p.action.upper() == "KEEP" and p.most_recent_versions is None
               and _condition_matches(p.condition, image, now) for p in policies):
            continue
        if any(p.action.upper() == "DELETE" and _condition_matches(p.condition, image, now) for p in policies):
            deleted.append(image)
    return deleted


@dataclass(frozen=True)
class Unprotected:
    """A DELETE policy that can reach a released version no KEEP policy keeps. `example` is one such version
    the version pattern admits (a tag for Docker, a version name otherwise), when the policy's reach is
    narrowed by prefixes."""

    policy: CleanupPolicy
    example: str | None


# Formats whose versions carry tags (Docker image tags, npm dist-tags); the others' versions are untagged.
_TAGGED_FORMATS: Final = frozenset({"DOCKER", "NPM"})


def _state(condition: CleanupCondition | None) -> str:
    return ((condition.tag_state if condition else None) or "ANY").upper()


def _reach(delete: CleanupPolicy, docker: bool, tagged_format: bool) -> tuple[bool, tuple[str, ...]]:
    """Can this DELETE policy reach a released version, and within which prefixes (of tags for Docker, of
    version names otherwise; empty: any)? Released Docker images are the version-tagged ones; other formats'
    released versions are the versions whose names match the pattern, tagged or not."""
    cond = delete.condition
    state = _state(cond)
    if docker:
        if state == "UNTAGGED":
            return False, ()
        return True, cond.tag_prefixes if cond else ()
    if cond is not None and cond.tag_prefixes:
        return tagged_format and state != "UNTAGGED", ()  # a tag prefix matches tagged versions only
    if state == "TAGGED" and not tagged_format:
        return False, ()
    return True, cond.version_name_prefixes if cond else ()


def _keeps(
    keep: CleanupPolicy, delete: CleanupPolicy, docker: bool, tagged_format: bool
) -> tuple[bool, tuple[str, ...]]:
    """Does this KEEP policy keep released versions wherever the DELETE policy reaches, and by which prefixes
    (empty: all of them)? Keeping the most recent N is not keeping every version, and an age or a digest
    prefix keeps only some."""
    if keep.action.upper() != "KEEP" or keep.most_recent_versions is not None:
        return False, ()
    cond = keep.condition
    if cond is None:
        return True, ()
    state = _state(cond)
    if cond.older_than_seconds is not None or cond.newer_than_seconds is not None:
        return False, ()
    if cond.package_name_prefixes:
        delete_packages = delete.condition.package_name_prefixes if delete.condition else ()
        if not delete_packages or not all(d.startswith(cond.package_name_prefixes) for d in delete_packages):
            return False, ()
    if docker:
        if state == "UNTAGGED" or cond.version_name_prefixes:
            return False, ()
        return True, cond.tag_prefixes
    if cond.tag_prefixes or (state == "TAGGED") or (state == "UNTAGGED" and tagged_format):
        return False, ()  # leaves untagged (or, for npm, tagged) versions to the DELETE policy
    return True, cond.version_name_prefixes


def unprotected_deletes(
    policies: Iterable[CleanupPolicy], settings: Settings, fmt: str = "DOCKER"
) -> list[Unprotected]:
    """DELETE policies that can reach a released version with no KEEP policy keeping all they reach.

    A version is kept when ANY KEEP policy matches it, so the KEEP policies' prefixes are pooled. Raises
    `PatternNotAnalysable` when the version pattern cannot be compared with prefixes."""
    policies = list(policies)
    docker = fmt.upper() == "DOCKER"
    tagged_format = fmt.upper() in _TAGGED_FORMATS
    out: list[Unprotected] = []
    for delete in policies:
        if delete.action.upper() != "DELETE":
            continue
        reaches, within = _reach(delete, docker, tagged_format)
        if not reaches:
            continue
        kept_by: list[tuple[str, ...]] = [prefixes for ok, prefixes in
                                          (_keeps(k, delete, docker, tagged_format) for k in policies) if ok]
        if any(not prefixes for prefixes in kept_by):
            continue  # some KEEP policy keeps every version it could reach
        pooled = tuple(sorted({p for prefixes in kept_by for p in prefixes}))
        example = uncovered_version(settings.version_tag_pattern, pooled, within=within, docker_tag=docker)
        if example is not None:
            out.append(Unprotected(delete, example))
    return out
