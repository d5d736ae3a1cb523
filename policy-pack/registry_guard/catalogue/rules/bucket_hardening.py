"""Buckets in the stack use uniform access and enforce public access prevention."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...pulumi_properties.types import BUCKET
from ..findings import Finding, Undetermined
from ..frameworks import CIS_BUCKET_NOT_PUBLIC, CIS_BUCKET_UNIFORM_ACCESS
from ..model import Subject, is_unknown
from ..rule import Inputs, Rule, Stage, declare


def enforce_public_access_prevention(resource_type: str, props: dict[str, Any]) -> dict[str, Any] | None:
    """Enforce public access prevention: certain, reversible, and it only removes public access, which
    no-public-access forbids anyway. Uniform bucket-level access is never switched on here: ACL grants elsewhere
    in the stack would stop working, and after 90 days the switch cannot be undone."""
    if resource_type != BUCKET or props.get("publicAccessPrevention") == "enforced":
        return None
    props["publicAccessPrevention"] = "enforced"
    return props


@declare(
    id="bucket-hardening",
    title="Buckets use uniform access and block public access",
    severity="high",
    enforcement="mandatory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.BUCKET,),
    tags=("storage", "public-access"),
    description="Cloud Storage buckets have uniform bucket-level access on and public access prevention enforced: "
    "at deploy time every bucket of the stack (a Container Registry bucket, the audit's report bucket), live the "
    "Container Registry buckets the scan reads.",
    remediation=(
        "Set public_access_prevention='enforced' (the policy pack's remediate level does this) and "
        "uniform_bucket_level_access=True, after moving any ACL grants on the bucket to IAM (the pack never "
        "switches uniform access on by itself: it cannot see ACL grants made elsewhere, and the switch cannot be "
        "undone after 90 days).",
        "Live: gcloud storage buckets update gs://BUCKET --uniform-bucket-level-access "
        "--public-access-prevention",
    ),
    frameworks=(CIS_BUCKET_UNIFORM_ACCESS, CIS_BUCKET_NOT_PUBLIC),
    url="https://cloud.google.com/storage/docs/public-access-prevention",
    fix=enforce_public_access_prevention,
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    for bucket in inputs.state.buckets:
        uniform, prevention = bucket.uniform_access, bucket.public_access_prevention
        unknown = [key for key, value in (("uniformBucketLevelAccess", uniform),
                                          ("publicAccessPrevention", prevention)) if is_unknown(value)]
        problems = []
        if uniform is False:
            problems.append("uniform bucket-level access is off")
        if not is_unknown(prevention) and prevention.lower() != "enforced":
            problems.append(f"public access prevention is {prevention!s}, not enforced")
        if problems:
            yield rule.finding(
                str(bucket.ref), f"bucket {bucket.ref.name}: " + "; ".join(problems),
                {"uniformBucketLevelAccess": None if is_unknown(uniform) else uniform,
                 "publicAccessPrevention": None if is_unknown(prevention) else prevention},
            )
        elif unknown:
            yield rule.undetermined(str(bucket.ref), f"{', '.join(unknown)} not known yet")
