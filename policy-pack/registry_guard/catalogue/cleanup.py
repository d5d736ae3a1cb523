"""Artifact Registry cleanup policies: what they could delete, and what they would delete today.

Google's own dry run only writes logs, so this simulates the documented semantics on an inventory:
a version is deleted when some DELETE policy matches it and no KEEP policy does (KEEP wins);
conditions inside one policy are ANDed; `mostRecentVersions` keeps the newest N versions per package.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from .model import CleanupCondition, CleanupPolicy, Image
from .settings import Settings

# Tags a version pattern is meant to accept, to test whether KEEP tag prefixes cover them all.
_VERSION_SAMPLES = ("v1.0.0", "1.0.0", "v0.1.0-rc.1", "0.9.3", "v10.20.30", "2.0.0-beta")


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


def _keep_covers_versions(policy: CleanupPolicy, delete: CleanupPolicy, settings: Settings) -> bool:
    """Does this KEEP policy protect every version-tagged image the DELETE policy could reach?"""
    if policy.action.upper() != "KEEP" or policy.most_recent_versions is not None:
        return False
    cond = policy.condition
    if cond is None:
        return True
    if (cond.tag_state or "ANY").upper() == "UNTAGGED":
        return False
    if cond.older_than_seconds is not None or cond.newer_than_seconds is not None or cond.version_name_prefixes:
        return False  # protects only some ages or digests
    if cond.package_name_prefixes:
        delete_packages = delete.condition.package_name_prefixes if delete.condition else ()
        if not delete_packages or not all(d.startswith(cond.package_name_prefixes) for d in delete_packages):
            return False
    if not cond.tag_prefixes:
        return True
    samples = [s for s in _VERSION_SAMPLES if settings.is_version_tag(s)]
    # A custom pattern none of the samples fits: prefix coverage cannot be checked; trust a tag-prefix KEEP.
    return all(s.startswith(cond.tag_prefixes) for s in samples)


def _delete_can_reach_tagged(delete: CleanupPolicy) -> bool:
    cond = delete.condition
    return cond is None or (cond.tag_state or "ANY").upper() != "UNTAGGED"


def unprotected_deletes(policies: Iterable[CleanupPolicy], settings: Settings) -> list[CleanupPolicy]:
    """DELETE policies that could reach a version-tagged image with no KEEP policy fully covering it."""
    policies = list(policies)
    return [
        p for p in policies
        if p.action.upper() == "DELETE" and _delete_can_reach_tagged(p)
        and not any(_keep_covers_versions(k, p, settings) for k in policies)
    ]
