"""Live repository and bucket settings match what the stack declares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import Finding, Undetermined
from ..model import Bucket, Repository, Subject, is_unknown
from ..rule import Inputs, Rule, Stage, declare

# Labels Google or the Pulumi provider add on their own; not the stack's intent.
_MANAGED_LABELS = ("goog-", "pulumi")


def _repository_settings(repo: Repository) -> list[tuple[str, Any]]:
    policies: Any = repo.cleanup_policies
    if not is_unknown(policies):
        policies = sorted(repr(p) for p in policies)  # order does not matter to Artifact Registry
    labels: Any = repo.labels
    if not is_unknown(labels):
        labels = {k: v for k, v in dict(labels).items() if not k.startswith(_MANAGED_LABELS)}
    kms: Any = repo.kms_key_name if is_unknown(repo.kms_key_name) else repo.kms_key_name or None
    return [("immutableTags", repo.immutable_tags), ("cleanupPolicies", policies),
            ("cleanupPolicyDryRun", repo.cleanup_dry_run), ("vulnerabilityScanning", repo.scanning),
            ("kmsKeyName", kms), ("labels", labels)]


def _bucket_settings(bucket: Bucket) -> list[tuple[str, Any]]:
    pap: Any = bucket.public_access_prevention
    if not is_unknown(pap):
        pap = "enforced" if pap.lower() == "enforced" else "inherited"  # unspecified == inherited
    return [("uniformBucketLevelAccess", bucket.uniform_access), ("publicAccessPrevention", pap)]


def _differences(declared: list[tuple[str, Any]], live: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"setting": name, "declared": want, "live": have}
            for (name, want), (_, have) in zip(declared, live, strict=True)
            if not is_unknown(want) and not is_unknown(have) and want != have]


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 120 else text[:117] + "..."


@declare(
    id="config-drift",
    title="Live settings match the stack",
    severity="medium",
    stages=(Stage.DECLARED,),
    subjects=(Subject.REPOSITORY, Subject.BUCKET),
    description="Live repository or bucket settings (immutable tags, cleanup policies, scanning, encryption, labels, "
    "uniform access, public access prevention) differ from what the stack declares.",
    remediation=("Run `pulumi preview --refresh` and `pulumi up` to restore the declared settings.",),
    url="https://www.pulumi.com/docs/iac/operations/stack-management/drift/",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    assert inputs.declared is not None  # the judge runs DECLARED rules only with the stack's state
    live_repos = {r.ref: r for r in inputs.state.repositories}
    for repo in inputs.declared.repositories:
        current = live_repos.get(repo.ref)
        if current is None:
            continue
        for diff in _differences(_repository_settings(repo), _repository_settings(current)):
            yield rule.finding(str(repo.ref),
                               f"{diff['setting']} on {repo.ref.name} is {_short(diff['live'])} live; "
                               f"the stack declares {_short(diff['declared'])}", diff)
    live_buckets = {b.ref: b for b in inputs.state.buckets}
    for bucket in inputs.declared.buckets:
        current_bucket = live_buckets.get(bucket.ref)
        if current_bucket is None:
            continue
        for diff in _differences(_bucket_settings(bucket), _bucket_settings(current_bucket)):
            yield rule.finding(str(bucket.ref),
                               f"{diff['setting']} on bucket {bucket.ref.name} is {_short(diff['live'])} live; "
                               f"the stack declares {_short(diff['declared'])}", diff)
