"""Artifact Registry repository settings: immutable tags, cleanup, scanning, encryption, labels."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

from ..findings import Finding, Undetermined
from ..model import Image, RegistryState, Repository, is_unknown
from ..settings import Settings
from .cleanup import unprotected_deletes, would_delete


def _docker_repositories(state: RegistryState, rule_id: str) -> Iterator[Repository | Undetermined]:
    for repo in state.repositories:
        if is_unknown(repo.format):
            yield Undetermined(rule_id, str(repo.ref), "the repository format is not known yet")
        elif str(repo.format).upper() == "DOCKER":
            yield repo


def immutable_tags(state: RegistryState, settings: Settings) -> Iterator[Finding | Undetermined]:
    for repo in _docker_repositories(state, "immutable-tags"):
        if isinstance(repo, Undetermined):
            yield repo
        elif is_unknown(repo.immutable_tags):
            yield Undetermined("immutable-tags", str(repo.ref), "dockerConfig.immutableTags is not known yet")
        elif repo.immutable_tags is not True:
            yield Finding("immutable-tags", str(repo.ref),
                          f"{repo.ref.name} lets a version tag be moved to other content (immutable tags are off)",
                          {"immutableTags": repo.immutable_tags}, )


def vulnerability_scanning(state: RegistryState, settings: Settings) -> Iterator[Finding | Undetermined]:
    for repo in _docker_repositories(state, "vulnerability-scanning"):
        if isinstance(repo, Undetermined):
            yield repo
        elif is_unknown(repo.scanning):
            yield Undetermined("vulnerability-scanning", str(repo.ref), "the scanning config is not known yet")
        elif str(repo.scanning).upper() == "DISABLED":
            yield Finding("vulnerability-scanning", str(repo.ref),
                          f"vulnerability scanning is disabled on {repo.ref.name}",
                          {"enablementConfig": repo.scanning})
        elif repo.scanning_state == "SCANNING_DISABLED":
            # Configured to inherit, yet not scanning: what a config-only check (Prowler's API check,
            # or a deploy-time policy) cannot see.
            reason = f" ({repo.scanning_state_reason})" if repo.scanning_state_reason else ""
            yield Finding("vulnerability-scanning", str(repo.ref),
                          f"vulnerability scanning is not active on {repo.ref.name} although it is not "
                          f"disabled there{reason}",
                          {"enablementConfig": repo.scanning, "enablementState": repo.scanning_state,
                           "enablementStateReason": repo.scanning_state_reason})


def customer_managed_encryption(state: RegistryState, settings: Settings) -> Iterator[Finding | Undetermined]:
    for repo in state.repositories:
        if is_unknown(repo.kms_key_name):
            yield Undetermined("customer-managed-encryption", str(repo.ref), "kmsKeyName is not known yet")
        elif not repo.kms_key_name:
            yield Finding("customer-managed-encryption", str(repo.ref),
                          f"{repo.ref.name} is encrypted with a Google-managed key, not a customer-managed one",
                          {"kmsKeyName": None})


def required_labels(state: RegistryState, settings: Settings) -> Iterator[Finding | Undetermined]:
    for repo in state.repositories:
        if is_unknown(repo.labels):
            yield Undetermined("required-labels", str(repo.ref), "labels are not known yet")
            continue
        assert not isinstance(repo.labels, type(None))
        labels = dict(repo.labels)  # type: ignore[arg-type]
        missing = [key for key in settings.required_labels if not labels.get(key)]
        if missing:
            yield Finding("required-labels", str(repo.ref),
                          f"{repo.ref.name} lacks label(s) {', '.join(missing)}",
                          {"missing": missing, "labels": labels})


def cleanup_keeps_versions(state: RegistryState, settings: Settings) -> Iterator[Finding | Undetermined]:
    images_by_repo: dict[str, list[Image]] = defaultdict(list)
    for image in state.images:
        images_by_repo[image.repository.name].append(image)
    now = state.observed_at or datetime.now(UTC)
    for repo in _docker_repositories(state, "cleanup-keeps-versions"):
        if isinstance(repo, Undetermined):
            yield repo
            continue
        if is_unknown(repo.cleanup_policies):
            yield Undetermined("cleanup-keeps-versions", str(repo.ref), "cleanup policies are not known yet")
            continue
        policies = tuple(repo.cleanup_policies)  # type: ignore[arg-type]
        dry_run = "" if not repo.cleanup_dry_run or is_unknown(repo.cleanup_dry_run) else \
            " (dry run is on: nothing is deleted until it is turned off)"
        for policy in unprotected_deletes(policies, settings):
            yield Finding(
                "cleanup-keeps-versions", str(repo.ref),
                f"cleanup policy {policy.id!r} on {repo.ref.name} can delete version-tagged images and no KEEP "
                f"policy protects every version tag{dry_run}",
                {"policy": policy.id, "dryRun": repo.cleanup_dry_run is True},
            )
        # Live: name every version-tagged image the policies would delete today.
        doomed = [i for i in would_delete(policies, images_by_repo.get(repo.ref.name, ()), now)
                  if any(settings.is_version_tag(t) for t in i.tags)]
        for image in doomed:
            versions = [t for t in image.tags if settings.is_version_tag(t)]
            yield Finding(
                "cleanup-keeps-versions", str(image.ref),
                f"the cleanup policies of {repo.ref.name} would delete {image.package} "
                f"{', '.join(versions)} ({image.digest}){dry_run}",
                {"repository": repo.ref.name, "package": image.package, "digest": image.digest,
                 "versions": versions, "dryRun": repo.cleanup_dry_run is True},
            )
