"""The Container Registry bucket source against the real GCS client and gcp-storage-emulator."""

from __future__ import annotations

import os
from collections.abc import Callable

from oci_stubs import Reply, StubServer
from registry_guard.catalogue.model import (
    Bucket,
    Condition,
    Grant,
    LegacyRegistry,
    ResourceRef,
)

from audit.sources.gcs_bucket import read_gcr_bucket
from localdev.gcs_emulator import GcsEmulator, create_bucket, create_gcr_bucket

CONDITION = {"title": "until-2030", "description": "temporary",
             "expression": "request.time < timestamp('2030-01-01T00:00:00Z')"}


def test_public_bucket_gives_expected_grants(gcs: GcsEmulator) -> None:
    client = gcs.client()
    bucket = create_gcr_bucket(client, "ml-proj", bindings=[
        {"role": "roles/storage.objectViewer", "members": ["allUsers"]},
        {"role": "roles/storage.admin", "members": ["user:bob@example.com"]},
        {"role": "roles/storage.objectAdmin",
         "members": ["serviceAccount:ci@ml-proj.iam.gserviceaccount.com"], "condition": CONDITION},
    ], acl=[("allUsers", "READER")], default_object_acl=[("project-owners-123", "OWNER")])
    assert bucket.name == "artifacts.ml-proj.appspot.com"

    scan = read_gcr_bucket(bucket.name, client=client)
    assert scan.errors == () and scan.complete
    ref = ResourceRef("bucket", bucket.name)
    iam = "storage.buckets.getIamPolicy"
    assert set(scan.state.grants) == {
        Grant(ref, "roles/storage.objectViewer", "allUsers", "iam-policy", source=iam),
        Grant(ref, "roles/storage.admin", "user:bob@example.com", "iam-policy", source=iam),
        Grant(ref, "roles/storage.objectAdmin", "serviceAccount:ci@ml-proj.iam.gserviceaccount.com",
              "iam-policy", Condition(CONDITION["expression"], CONDITION["title"], CONDITION["description"]),
              source=iam),
        Grant(ref, "acl:READER", "allUsers", "bucket-acl", source="storage.bucketAccessControls.list"),
        Grant(ref, "acl:OWNER", "projectOwner:123", "default-object-acl",
              source="storage.defaultObjectAccessControls.list"),
    }
    assert scan.state.buckets == (Bucket(ref, False, "inherited", True, source="storage.buckets.get"),)
    assert scan.state.legacy_registries == (
        LegacyRegistry(ResourceRef("container-registry", "gcr.io/ml-proj"), bucket.name,
                       source="storage.buckets.get"),)
    assert scan.state.iam_complete_targets == frozenset({ref})


def test_hardened_bucket(gcs: GcsEmulator) -> None:
    client = gcs.client()
    bucket = create_gcr_bucket(client, "ml-proj", region="eu", uniform_access=True,
                               public_access_prevention="enforced", bindings=[
        {"role": "roles/storage.objectViewer", "members": ["group:ml-readers@example.com"]},
        {"role": "roles/storage.legacyBucketWriter",
         "members": ["serviceAccount:push@ml-proj.iam.gserviceaccount.com"]},
    ])
    scan = read_gcr_bucket(bucket.name, client=client)
    assert scan.errors == ()
    (state_bucket,) = scan.state.buckets
    assert state_bucket.uniform_access is True
    assert state_bucket.public_access_prevention == "enforced"
    assert {g.member for g in scan.state.grants} == {
        "group:ml-readers@example.com", "serviceAccount:push@ml-proj.iam.gserviceaccount.com"}
    assert {g.shape for g in scan.state.grants} == {"iam-policy"}
    # ACLs are not read under UBLA, and that is a note, not an error
    assert scan.notes and "uniform bucket-level access" in scan.notes[0]
    assert scan.state.legacy_registries[0].ref.name == "eu.gcr.io/ml-proj"


def test_plain_bucket_before_patch_reports_inherited_and_is_not_gcr(gcs: GcsEmulator) -> None:
    client = gcs.client()
    create_bucket(client, "model-reports")
    scan = read_gcr_bucket("model-reports", client=client)
    assert scan.errors == ()
    assert scan.state.buckets[0].public_access_prevention == "inherited"
    assert scan.state.buckets[0].is_container_registry is False
    assert scan.state.legacy_registries == () and scan.state.grants == ()


def test_missing_bucket_is_a_source_error(gcs: GcsEmulator) -> None:
    scan = read_gcr_bucket("artifacts.nobody.appspot.com", client=gcs.client())
    assert not scan.complete
    (error,) = scan.errors
    assert error.source == "gcs" and error.target == "bucket:artifacts.nobody.appspot.com"
    assert "HTTP 404" in error.message
    assert scan.state.buckets == () and scan.state.iam_complete_targets == frozenset()


def test_client_from_environment_uses_the_emulator(gcs: GcsEmulator) -> None:
    assert os.environ["STORAGE_EMULATOR_HOST"] == gcs.url
    create_gcr_bucket(gcs.client(), "env-proj")
    scan = read_gcr_bucket("artifacts.env-proj.appspot.com", project="env-proj")
    assert scan.errors == () and scan.state.buckets


def test_bad_json_and_forbidden_become_errors(
        gcs: GcsEmulator, stub_server: Callable[[StubServer], StubServer]) -> None:
    def handle(method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/storage/v1/b/broken/iam"):
            return 403, {"Content-Type": "application/json"}, \
                b'{"error": {"code": 403, "message": "no storage.buckets.getIamPolicy"}}'
        return 200, {"Content-Type": "application/json"}, b'{"name": "broken", '  # truncated JSON

    stub = stub_server(StubServer(handle))
    os.environ["STORAGE_EMULATOR_HOST"] = stub.url  # the fixture restores it
    scan = read_gcr_bucket("broken", project="p")
    targets = {e.target: e.message for e in scan.errors}
    assert set(targets) == {"bucket:broken", "bucket:broken/iam", "bucket:broken/acl",
                            "bucket:broken/defaultObjectAcl"}
    assert "HTTP 403" in targets["bucket:broken/iam"]
    assert scan.state.buckets == ()  # nothing readable: no guessed bucket


def test_domain_scoped_project_bucket(gcs: GcsEmulator) -> None:
    """example.com:ml-proj keeps its images under gcr.io/example.com/ml-proj (see tests/catalogue)."""
    client = gcs.client()
    create_bucket(client, "artifacts.ml-proj.example.com.a.appspot.com")
    scan = read_gcr_bucket("artifacts.ml-proj.example.com.a.appspot.com", client=client)
    assert scan.state.buckets[0].is_container_registry is True
    assert [r.ref.name for r in scan.state.legacy_registries] == ["gcr.io/example.com/ml-proj"]
