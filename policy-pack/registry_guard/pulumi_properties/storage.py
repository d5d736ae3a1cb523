"""A Cloud Storage bucket, and a Container Registry (`gcp.container.Registry`)."""

from __future__ import annotations

from typing import Any

from ..catalogue.container_registry import (
    ContainerRegistryBucket,
    container_registry_host,
    container_registry_of_bucket,
)
from ..catalogue.model import UNKNOWN, UNKNOWN_NAME, Bucket, LegacyRegistry, RegistryState, ResourceRef, is_unknown
from .reader import PropertyReader, show
from .targets import container_registry_bucket


def adapt_bucket(props: Any, urn: str, name: str, reader: PropertyReader) -> RegistryState:
    bucket_name = reader.text(props, "name", ".name")
    uniform = reader.read(props, "uniformBucketLevelAccess", ".uniformBucketLevelAccess")
    prevention = reader.text(props, "publicAccessPrevention", ".publicAccessPrevention")
    bucket = Bucket(
        ref=ResourceRef("bucket", name if bucket_name is None else show(bucket_name)),
        uniform_access=UNKNOWN if is_unknown(uniform) else uniform is True,
        public_access_prevention=UNKNOWN if is_unknown(prevention) else (prevention or "inherited"),
        is_container_registry=isinstance(bucket_name, str) and container_registry_of_bucket(bucket_name) is not None,
        source=urn,
    )
    return RegistryState(buckets=(bucket,))


def adapt_container_registry(
    props: Any, urn: str, default_project: str | None, reader: PropertyReader
) -> RegistryState:
    location = reader.text(props, "location", ".location")
    project = reader.read(props, "project", ".project") or default_project
    host = UNKNOWN_NAME if is_unknown(location) else container_registry_host(location)
    registry = LegacyRegistry(
        ref=ResourceRef("container-registry", ContainerRegistryBucket(host, show(project)).registry),
        bucket=container_registry_bucket(location, project if project is not None else "(provider default)"),
        source=urn,
    )
    return RegistryState(legacy_registries=(registry,))
