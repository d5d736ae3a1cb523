"""The legacy backend: Container Registry plus IAM on the bucket it really uses."""

from __future__ import annotations

import json

import pytest
from stack_helpers import BUCKET_IAM_MEMBER, COMPONENT, GCR_REGISTRY, PROJECT, FailStack, RunStack

MEMBERS = {
    "readers": json.dumps(["group:ml-serving@example.com"]),
    "writers": json.dumps(["serviceAccount:ci@ml-models-prod.iam.gserviceaccount.com"]),
}


def test_default_location_targets_the_registry_bucket(run_stack: RunStack) -> None:
    run = run_stack({"backend": "gcr", **MEMBERS})

    (registry,) = run.of_type(GCR_REGISTRY)
    assert registry.inputs["project"] == PROJECT
    assert "location" not in registry.inputs
    (component,) = run.of_type(COMPONENT)
    assert registry.parent == component.urn

    bucket = f"artifacts.{PROJECT}.appspot.com"
    grants = {
        (g.inputs["bucket"], g.inputs["role"], g.inputs["member"]) for g in run.of_type(BUCKET_IAM_MEMBER)
    }
    assert grants == {
        (bucket, "roles/storage.objectViewer", "group:ml-serving@example.com"),
        (
            bucket,
            "roles/storage.legacyBucketWriter",
            "serviceAccount:ci@ml-models-prod.iam.gserviceaccount.com",
        ),
    }
    for grant in run.of_type(BUCKET_IAM_MEMBER):
        assert grant.property_dependencies["bucket"] == (registry.urn,)
    # Least privilege: no storage.admin unless admins asks; no authoritative binding.
    assert all(g.inputs["role"] != "roles/storage.admin" for g in run.of_type(BUCKET_IAM_MEMBER))
    assert not [r for r in run.resources if r.type.endswith(("IAMBinding", "IAMPolicy"))]

    assert run.outputs["registry_url"] == f"gcr.io/{PROJECT}"
    assert run.outputs["bucket_name"] == bucket
    assert run.outputs["push_command"] == f"docker push gcr.io/{PROJECT}/MODEL:v1.4.0"


def test_shutdown_warning(run_stack: RunStack) -> None:
    run = run_stack({"backend": "gcr"})
    assert len(run.warnings) == 1
    assert "shut Container Registry down" in run.warnings[0]
    assert "2025-03-18" in run.warnings[0]
    assert "Artifact Registry is the default" in run.warnings[0]


@pytest.mark.parametrize(
    ("location", "host", "bucket_prefix"),
    [("US", "us.gcr.io", "us."), ("eu", "eu.gcr.io", "eu."), ("ASIA", "asia.gcr.io", "asia.")],
)
def test_regional_hosts_and_buckets(
    run_stack: RunStack, location: str, host: str, bucket_prefix: str
) -> None:
    run = run_stack({"backend": "gcr", "gcrLocation": location, **MEMBERS})
    (registry,) = run.of_type(GCR_REGISTRY)
    assert registry.inputs["location"] == location.upper()
    bucket = f"{bucket_prefix}artifacts.{PROJECT}.appspot.com"
    assert {g.inputs["bucket"] for g in run.of_type(BUCKET_IAM_MEMBER)} == {bucket}
    assert run.outputs["registry_url"] == f"{host}/{PROJECT}"
    assert run.outputs["docker_host"] == host
    assert run.outputs["bucket_name"] == bucket


def test_admins_get_storage_admin(run_stack: RunStack) -> None:
    run = run_stack({"backend": "gcr", "admins": json.dumps(["group:registry-admins@example.com"])})
    (grant,) = run.of_type(BUCKET_IAM_MEMBER)
    assert grant.inputs["role"] == "roles/storage.admin"
    assert grant.inputs["member"] == "group:registry-admins@example.com"


@pytest.mark.parametrize("zone", ["us-central1-a", "europe-west4-b"])
def test_zone_is_not_a_gcr_location(stack_error: FailStack, zone: str) -> None:
    message = stack_error({"backend": "gcr", "gcrLocation": zone})
    assert message == (
        f"model-registry:gcrLocation: '{zone}' is a zone, not a Container Registry location; "
        "allowed: US, EU, ASIA or unset (gcr.io)"
    )


def test_artifact_registry_keys_are_refused_on_gcr(stack_error: FailStack) -> None:
    message = stack_error({"backend": "gcr", "kmsKeyName": "projects/p/locations/us/keyRings/r/cryptoKeys/k"})
    assert (
        message == "model-registry:kmsKeyName: only applies to backend artifact-registry, but backend is gcr"
    )
    message = stack_error({"backend": "gcr", "location": "us-central1-a"})
    assert message.startswith("model-registry:location: only applies to backend artifact-registry")
    assert "gcrLocation" in message
