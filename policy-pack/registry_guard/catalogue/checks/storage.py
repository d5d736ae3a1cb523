"""Buckets and the legacy Container Registry."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..model import RegistryState, is_unknown
from ..settings import Settings


def legacy_gcr(state: RegistryState, settings: Settings) -> Iterator[Finding | Undetermined]:
    seen_buckets = set()
    for registry in state.legacy_registries:
        seen_buckets.add(registry.bucket)
        yield Finding(
            "legacy-gcr", str(registry.ref),
            f"{registry.ref.name} is Container Registry, which Google shut down (writes stopped 2025-03-18); "
            "move it to Artifact Registry",
            {"bucket": None if is_unknown(registry.bucket) else registry.bucket},
        )
    for bucket in state.buckets:
        if bucket.is_container_registry and bucket.ref.name not in seen_buckets:
            yield Finding(
                "legacy-gcr", str(bucket.ref),
                f"bucket {bucket.ref.name} backs a Container Registry, which Google shut down; "
                "move its images to Artifact Registry",
                {"bucket": bucket.ref.name},
            )


def bucket_hardening(state: RegistryState, settings: Settings) -> Iterator[Finding | Undetermined]:
    for bucket in state.buckets:
        unknown = [k for k, v in (("uniformBucketLevelAccess", bucket.uniform_access),
                                  ("publicAccessPrevention", bucket.public_access_prevention)) if is_unknown(v)]
        problems = []
        if bucket.uniform_access is False:
            problems.append("uniform bucket-level access is off")
        if not is_unknown(bucket.public_access_prevention) and \
                str(bucket.public_access_prevention).lower() != "enforced":
            problems.append(f"public access prevention is {bucket.public_access_prevention!s}, not enforced")
        if problems:
            yield Finding("bucket-hardening", str(bucket.ref), f"bucket {bucket.ref.name}: " + "; ".join(problems),
                          {"uniformBucketLevelAccess": None if is_unknown(bucket.uniform_access)
                           else bucket.uniform_access,
                           "publicAccessPrevention": None if is_unknown(bucket.public_access_prevention)
                           else bucket.public_access_prevention})
        elif unknown:
            yield Undetermined("bucket-hardening", str(bucket.ref), f"{', '.join(unknown)} not known yet")
