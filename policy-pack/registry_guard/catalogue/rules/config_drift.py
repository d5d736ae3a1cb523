"""Live repository and bucket settings match what the stack declares.

Settings are compared and reported as plain JSON values (cleanup policies as objects, labels as a map), and
a finding names only the fields that differ: a whole cleanup policy printed on both sides, cut at the same
length, would hide the one number that changed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

from ..findings import Finding, Undetermined
from ..model import Bucket, Repository, Subject, is_unknown
from ..rule import Inputs, Rule, Stage, declare

# Labels Google or the Pulumi provider add on their own; not the stack's intent.
_MANAGED_LABELS = ("goog-", "pulumi")
# A field present on one side only: its change names only the side that has it.
_MISSING: Any = object()
_VALUE_LIMIT = 300  # characters of one field's JSON in a message (the evidence keeps the whole value)


def plain(value: Any) -> Any:
    """A setting as a plain JSON value: dataclasses to objects, tuples to lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _repository_settings(repo: Repository) -> list[tuple[str, Any]]:
    policies: Any = repo.cleanup_policies
    if not is_unknown(policies):
        # Order does not matter to Artifact Registry: sorted by id (then content) for a stable comparison.
        policies = sorted((plain(p) for p in policies), key=lambda p: (str(p.get("id")), _json(p)))
    labels: Any = repo.labels
    if not is_unknown(labels):
        labels = {k: v for k, v in sorted(dict(labels).items()) if not k.startswith(_MANAGED_LABELS)}
    kms: Any = repo.kms_key_name if is_unknown(repo.kms_key_name) else repo.kms_key_name or None
    return [("immutableTags", repo.immutable_tags), ("cleanupPolicies", policies),
            ("cleanupPolicyDryRun", repo.cleanup_dry_run), ("vulnerabilityScanning", repo.scanning),
            ("kmsKeyName", kms), ("labels", labels)]


def _bucket_settings(bucket: Bucket) -> list[tuple[str, Any]]:
    pap: Any = bucket.public_access_prevention
    if not is_unknown(pap):
        pap = "enforced" if pap.lower() == "enforced" else "inherited"  # unspecified == inherited
    return [("uniformBucketLevelAccess", bucket.uniform_access), ("publicAccessPrevention", pap)]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _by_id(items: list[Any]) -> dict[str, Any] | None:
    """A list of objects keyed by their unique `id` (cleanup policies), else None."""
    if not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
        return None
    keyed = {i["id"]: i for i in items}
    return keyed if len(keyed) == len(items) else None


def changes(declared: Any, live: Any, path: str = "") -> list[dict[str, Any]]:
    """The fields that differ, each as {field, declared, live} with plain values; a field one side does not
    have lacks that side's key."""
    if declared == live:
        return []
    if isinstance(declared, list) and isinstance(live, list):
        want, have = _by_id(declared), _by_id(live)
        if want is not None and have is not None:
            declared, live = want, have
    if isinstance(declared, dict) and isinstance(live, dict):
        out: list[dict[str, Any]] = []
        for key in sorted(declared.keys() | live.keys()):
            where = f"{path}.{key}" if path else key
            out += changes(declared.get(key, _MISSING), live.get(key, _MISSING), where)
        return out
    change: dict[str, Any] = {"field": path}
    if declared is not _MISSING:
        change["declared"] = declared
    if live is not _MISSING:
        change["live"] = live
    return [change]


def _differences(declared: list[tuple[str, Any]], live: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"setting": name, "declared": want, "live": have, "changes": changes(want, have)}
            for (name, want), (_, have) in zip(declared, live, strict=True)
            if not is_unknown(want) and not is_unknown(have) and want != have]


def _shown(change: Mapping[str, Any], side: str) -> str:
    """A value as a message shows it: a non-empty string as it is, anything else as JSON."""
    if side not in change:
        return "absent"
    value = change[side]
    text = value if isinstance(value, str) and value.strip() == value and value else _json(value)
    return text if len(text) <= _VALUE_LIMIT else text[: _VALUE_LIMIT - 1] + "…"


def message(diff: Mapping[str, Any], what: str) -> str:
    """`immutableTags on R is false live; the stack declares true`, or for a compound setting each field
    that differs: `cleanupPolicies on R differ from the stack: keep.most_recent_versions.keep_count is 3
    live, the stack declares 10`."""
    setting, parts = diff["setting"], diff["changes"]
    if len(parts) == 1 and not parts[0]["field"]:
        return f"{setting} on {what} is {_shown(diff, 'live')} live; the stack declares {_shown(diff, 'declared')}"
    return f"{setting} on {what} differ from the stack: " + "; ".join(
        f"{c['field']} is {_shown(c, 'live')} live, the stack declares {_shown(c, 'declared')}" for c in parts)


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
            yield rule.finding(str(repo.ref), message(diff, repo.ref.name), diff)
    live_buckets = {b.ref: b for b in inputs.state.buckets}
    for bucket in inputs.declared.buckets:
        current_bucket = live_buckets.get(bucket.ref)
        if current_bucket is None:
            continue
        for diff in _differences(_bucket_settings(bucket), _bucket_settings(current_bucket)):
            yield rule.finding(str(bucket.ref), message(diff, f"bucket {bucket.ref.name}"), diff)
