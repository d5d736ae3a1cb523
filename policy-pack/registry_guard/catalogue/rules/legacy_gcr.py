"""No Container Registry: Google shut it down."""

from __future__ import annotations

from collections.abc import Iterator

from ..container_registry import container_registry_of_bucket
from ..findings import Finding, Undetermined
from ..model import Grant, Subject, is_unknown
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="legacy-gcr",
    title="No Container Registry",
    severity="medium",
    enforcement="advisory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.CONTAINER_REGISTRY, Subject.BUCKET, Subject.GRANT),
    tags=("container-registry", "deprecation"),
    description="No Container Registry is used: no gcp.container.Registry, no bucket that backs one "
    "([REGION.]artifacts.<project>.appspot.com), and no IAM or ACL grant on such a bucket (managing who may pull "
    "or push is using it). Google shut Container Registry down: writes stopped on 2025-03-18.",
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
            seen_buckets.add(bucket_state.ref.name)
            yield rule.finding(
                str(bucket_state.ref),
                f"bucket {bucket_state.ref.name} backs a Container Registry, which Google shut down; "
                "move its images to Artifact Registry",
                {"bucket": bucket_state.ref.name},
            )
    # Access granted on a registry's bucket (IAM or ACLs) is Container Registry use too, even where the
    # registry itself is not in view: a stack that only manages who may pull or push keeps it alive.
    granted: dict[str, list[Grant]] = {}
    for grant in inputs.state.grants:
        if grant.target.kind in ("bucket", "object"):
            bucket_name = grant.target.name.split("/", 1)[0]
            if bucket_name not in seen_buckets and container_registry_of_bucket(bucket_name) is not None:
                granted.setdefault(bucket_name, []).append(grant)
    for bucket_name, grants in sorted(granted.items()):
        backed = container_registry_of_bucket(bucket_name)
        assert backed is not None
        yield rule.finding(
            f"bucket:{bucket_name}",
            f"{len(grants)} grant(s) on bucket {bucket_name} manage access to Container Registry "
            f"{backed.registry}, which Google shut down; grant Artifact Registry repository roles instead",
            {"bucket": bucket_name, "grants": [f"{g.role} {g.member}" for g in grants],
             "sources": sorted({g.source for g in grants if g.source})},
        )
