"""No Container Registry: Google shut it down."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..model import Subject, is_unknown
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="legacy-gcr",
    title="No Container Registry",
    severity="medium",
    enforcement="advisory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.CONTAINER_REGISTRY, Subject.BUCKET),
    tags=("container-registry", "deprecation"),
    description="Container Registry (gcp.container.Registry, artifacts.<project>.appspot.com buckets) is shut down by "
    "Google: writes stopped on 2025-03-18.",
    remediation=(
        "Create Artifact Registry gcr.io repositories (gcloud artifacts docker upgrade migrate "
        "--projects=PROJECT) or a pkg.dev Docker repository, copy the images, and repoint clients.",
        "Move storage IAM grants on the artifacts bucket to Artifact Registry repository IAM.",
    ),
    url="https://cloud.google.com/artifact-registry/docs/transition/transition-from-gcr",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    seen_buckets: set[str] = set()
    for registry in inputs.state.legacy_registries:
        bucket = None if is_unknown(registry.bucket) else registry.bucket
        if bucket is not None:
            seen_buckets.add(bucket)
        yield rule.finding(
            str(registry.ref),
            f"{registry.ref.name} is Container Registry, which Google shut down (writes stopped 2025-03-18); "
            "move it to Artifact Registry",
            {"bucket": bucket},
        )
    for bucket_state in inputs.state.buckets:
        if bucket_state.is_container_registry and bucket_state.ref.name not in seen_buckets:
            yield rule.finding(
                str(bucket_state.ref),
                f"bucket {bucket_state.ref.name} backs a Container Registry, which Google shut down; "
                "move its images to Artifact Registry",
                {"bucket": bucket_state.ref.name},
            )
