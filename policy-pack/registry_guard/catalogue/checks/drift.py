"""Compare the live estate with what the stack declares: IAM members and settings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from ..findings import Finding
from ..model import Bucket, Grant, RegistryState, Repository, ResourceRef, is_unknown
from ..principals import parse_member
from ..settings import Settings

# Labels Google or the Pulumi provider add on their own; not the stack's intent.
_MANAGED_LABELS = ("goog-", "pulumi")
# Default bucket bindings GCS creates for the project's owners/editors/viewers.
_LEGACY_ROLES = ("roles/storage.legacyBucketOwner", "roles/storage.legacyBucketReader",
                 "roles/storage.legacyObjectOwner", "roles/storage.legacyObjectReader")


def _grant_key(grant: Grant) -> tuple[str, str, str]:
    condition = grant.condition.expression if grant.condition else ""
    return str(grant.role), parse_member(str(grant.member)).canonical, condition


def iam_drift(declared: RegistryState, live: RegistryState, settings: Settings) -> Iterator[Finding]:
    declared_by_target: dict[ResourceRef, set[tuple[str, str, str]]] = defaultdict(set)
    for grant in declared.grants:
        if grant.shape.startswith("iam") and not is_unknown(grant.member) and not is_unknown(grant.role):
            declared_by_target[grant.target].add(_grant_key(grant))
    live_by_target: dict[ResourceRef, set[tuple[str, str, str]]] = defaultdict(set)
    for grant in live.grants:
        if grant.shape.startswith("iam"):
            live_by_target[grant.target].add(_grant_key(grant))
    for target in sorted(declared_by_target):
        if target not in live.iam_complete_targets:
            continue  # not read live (the scan reports that as an error); absence proves nothing
        want, have = declared_by_target[target], live_by_target.get(target, set())
        added = sorted(k for k in have - want
                       if not (k[0] in _LEGACY_ROLES and parse_member(k[1]).kind == "project"))
        removed = sorted(want - have)
        for role, member, condition in added:
            yield Finding(
                "iam-drift", str(target),
                f"{member} holds {role} on {target.name} live, but the stack does not declare it",
                {"change": "added", "role": role, "member": member, "condition": condition or None},
            )
        for role, member, condition in removed:
            yield Finding(
                "iam-drift", str(target),
                f"the stack declares {member} with {role} on {target.name}, but it is missing live",
                {"change": "removed", "role": role, "member": member, "condition": condition or None},
            )


def _differences(pairs: list[tuple[str, Any, Any]]) -> list[dict[str, Any]]:
    return [{"setting": name, "declared": want, "live": have}
            for name, want, have in pairs
            if not is_unknown(want) and not is_unknown(have) and want != have]


def _repository_settings(repo: Repository) -> list[tuple[str, Any]]:
    policies: Any = repo.cleanup_policies
    if not is_unknown(policies):
        policies = sorted(repr(p) for p in policies)  # order does not matter to Artifact Registry
    labels: Any = repo.labels
    if not is_unknown(labels):
        labels = {k: v for k, v in dict(labels).items() if not k.startswith(_MANAGED_LABELS)}
    return [("immutableTags", repo.immutable_tags), ("cleanupPolicies", policies),
            ("cleanupPolicyDryRun", repo.cleanup_dry_run), ("vulnerabilityScanning", repo.scanning),
            ("kmsKeyName", repo.kms_key_name or None if not is_unknown(repo.kms_key_name) else repo.kms_key_name),
            ("labels", labels)]


def _bucket_settings(bucket: Bucket) -> list[tuple[str, Any]]:
    pap: Any = bucket.public_access_prevention
    if not is_unknown(pap):
        pap = "enforced" if str(pap).lower() == "enforced" else "inherited"  # unspecified == inherited
    return [("uniformBucketLevelAccess", bucket.uniform_access), ("publicAccessPrevention", pap)]


def config_drift(declared: RegistryState, live: RegistryState, settings: Settings) -> Iterator[Finding]:
    live_repos = {r.ref: r for r in live.repositories}
    for repo in declared.repositories:
        current = live_repos.get(repo.ref)
        if current is None:
            continue
        diffs = _differences([(n, w, h) for (n, w), (_, h) in
                              zip(_repository_settings(repo), _repository_settings(current), strict=True)])
        for diff in diffs:
            yield Finding("config-drift", str(repo.ref),
                          f"{diff['setting']} on {repo.ref.name} is {_short(diff['live'])} live; "
                          f"the stack declares {_short(diff['declared'])}", diff)
    live_buckets = {b.ref: b for b in live.buckets}
    for bucket in declared.buckets:
        current_bucket = live_buckets.get(bucket.ref)
        if current_bucket is None:
            continue
        diffs = _differences([(n, w, h) for (n, w), (_, h) in
                              zip(_bucket_settings(bucket), _bucket_settings(current_bucket), strict=True)])
        for diff in diffs:
            yield Finding("config-drift", str(bucket.ref),
                          f"{diff['setting']} on bucket {bucket.ref.name} is {_short(diff['live'])} live; "
                          f"the stack declares {_short(diff['declared'])}", diff)


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 120 else text[:117] + "..."
