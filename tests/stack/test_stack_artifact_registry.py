"""The default backend: Artifact Registry Docker repositories, declared by the real `__main__.py`."""

from __future__ import annotations

import json

from stack_helpers import AR_IAM_MEMBER, AR_REPOSITORY, COMPONENT, PROJECT, RunStack

DAY = 86400


def test_default_repository_is_immutable_scanned_and_keeps_versions(run_stack: RunStack) -> None:
    run = run_stack({"owner": "ml-platform"})

    (repo,) = run.of_type(AR_REPOSITORY)
    inputs = repo.inputs
    assert inputs["repositoryId"] == "models"
    assert inputs["project"] == PROJECT
    assert inputs["location"] == "us-central1"
    assert inputs["format"] == "DOCKER"
    assert inputs["dockerConfig"] == {"immutableTags": True}
    assert inputs["cleanupPolicyDryRun"] is False
    assert inputs["vulnerabilityScanningConfig"] == {"enablementConfig": "INHERITED"}
    assert "kmsKeyName" not in inputs
    assert inputs["labels"] == {"model": "models", "owner": "ml-platform"}

    policies = {p["id"]: p for p in inputs["cleanupPolicies"]}
    assert policies["delete-untagged"] == {
        "id": "delete-untagged",
        "action": "DELETE",
        "condition": {"tagState": "UNTAGGED", "olderThan": f"{14 * DAY}s"},
    }
    assert policies["keep-version-tags"]["action"] == "KEEP"
    assert policies["keep-version-tags"]["condition"] == {
        "tagState": "TAGGED",
        "tagPrefixes": ["v", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    }
    assert policies["keep-recent-versions"]["action"] == "KEEP"
    assert policies["keep-recent-versions"]["mostRecentVersions"] == {"keepCount": 10}
    # Only untagged images can ever be deleted.
    deletes = [p for p in inputs["cleanupPolicies"] if p["action"] == "DELETE"]
    assert all(p["condition"]["tagState"] == "UNTAGGED" for p in deletes)

    # No grants unless config asks for them.
    assert run.of_type(AR_IAM_MEMBER) == ()
    (component,) = run.of_type(COMPONENT)
    assert repo.parent == component.urn
    assert component.parent == run.stack_urn


def test_exports_hosts_paths_and_docker_commands(run_stack: RunStack) -> None:
    run = run_stack({"repositories": json.dumps(["llm", "vision"]), "location": "europe-west4"})

    host = "europe-west4-docker.pkg.dev"
    assert run.outputs["backend"] == "artifact-registry"
    assert run.outputs["docker_host"] == host
    assert run.outputs["project"] == PROJECT
    assert set(run.outputs["repositories"]) == {"llm", "vision"}
    llm = run.outputs["repositories"]["llm"]
    assert llm["image_path"] == f"{host}/{PROJECT}/llm"
    assert llm["resource_name"] == f"projects/{PROJECT}/locations/europe-west4/repositories/llm"
    assert llm["tag_command"] == f"docker tag IMAGE {host}/{PROJECT}/llm/llm:v1.4.0"
    assert llm["push_command"] == f"docker push {host}/{PROJECT}/llm/llm:v1.4.0"
    assert {r.inputs["location"] for r in run.of_type(AR_REPOSITORY)} == {"europe-west4"}


def test_multi_region_location(run_stack: RunStack) -> None:
    run = run_stack({"location": "us"})
    assert run.outputs["docker_host"] == "us-docker.pkg.dev"
    assert run.outputs["repositories"]["models"]["image_path"] == f"us-docker.pkg.dev/{PROJECT}/models"


def test_one_non_authoritative_grant_per_repository_role_and_member(run_stack: RunStack) -> None:
    run = run_stack(
        {
            "repositories": json.dumps(["llm", "vision"]),
            "readers": json.dumps(["group:ML-Serving@Example.com", "domain:example.com"]),
            "writers": json.dumps(["serviceAccount:ci@ml-models-prod.iam.gserviceaccount.com"]),
        }
    )

    grants = {
        (r.inputs["repository"], r.inputs["role"], r.inputs["member"]) for r in run.of_type(AR_IAM_MEMBER)
    }
    expected = {
        (repo, role, member)
        for repo in ("llm", "vision")
        for role, member in (
            ("roles/artifactregistry.reader", "group:ml-serving@example.com"),  # canonical spelling
            ("roles/artifactregistry.reader", "domain:example.com"),
            ("roles/artifactregistry.writer", "serviceAccount:ci@ml-models-prod.iam.gserviceaccount.com"),
        )
    }
    assert grants == expected
    assert len(run.of_type(AR_IAM_MEMBER)) == 6
    # Least privilege: no admin role was asked for, so none is granted.
    assert all(r.inputs["role"] != "roles/artifactregistry.repoAdmin" for r in run.of_type(AR_IAM_MEMBER))
    # No authoritative shapes that would fight grants made elsewhere.
    assert not [r for r in run.resources if "IamBinding" in r.type or "IamPolicy" in r.type]

    repos = {r.inputs["repositoryId"]: r for r in run.of_type(AR_REPOSITORY)}
    for grant in run.of_type(AR_IAM_MEMBER):
        repo = repos[grant.inputs["repository"]]
        assert grant.inputs["location"] == "us-central1"
        assert grant.inputs["project"] == PROJECT
        # The grant is wired to its repository's outputs, so it is created after it.
        assert grant.property_dependencies["repository"] == (repo.urn,)
        assert repo.urn in grant.dependencies


def test_admins_get_repo_admin(run_stack: RunStack) -> None:
    run = run_stack({"admins": json.dumps(["group:ml-platform-admins@example.com"])})
    (grant,) = run.of_type(AR_IAM_MEMBER)
    assert grant.inputs["role"] == "roles/artifactregistry.repoAdmin"
    assert grant.inputs["member"] == "group:ml-platform-admins@example.com"


def test_cleanup_settings_from_config(run_stack: RunStack) -> None:
    run = run_stack(
        {
            "untaggedRetentionDays": "30",
            "keepRecentVersions": "3",
            "versionTagPrefixes": json.dumps(["release-"]),
            "cleanupDryRun": "true",
        }
    )
    (repo,) = run.of_type(AR_REPOSITORY)
    policies = {p["id"]: p for p in repo.inputs["cleanupPolicies"]}
    assert policies["delete-untagged"]["condition"]["olderThan"] == f"{30 * DAY}s"
    assert policies["keep-recent-versions"]["mostRecentVersions"]["keepCount"] == 3
    assert policies["keep-version-tags"]["condition"]["tagPrefixes"] == ["release-"]
    assert repo.inputs["cleanupPolicyDryRun"] is True
    # The example tag is one the KEEP policy protects.
    assert run.outputs["repositories"]["models"]["example_image"].endswith("/models:release-1.4.0")


def test_customer_managed_key(run_stack: RunStack) -> None:
    key = f"projects/{PROJECT}/locations/us-central1/keyRings/registry/cryptoKeys/models"
    run = run_stack({"kmsKeyName": key})
    (repo,) = run.of_type(AR_REPOSITORY)
    assert repo.inputs["kmsKeyName"] == key


def test_labels_merge_stack_then_repository(run_stack: RunStack) -> None:
    repositories = [
        "llm",
        {"name": "vision", "description": "Vision models", "labels": {"model": "resnet", "tier": "gold"}},
    ]
    run = run_stack(
        {
            "repositories": json.dumps(repositories),
            "labels": json.dumps({"environment": "prod", "tier": "silver"}),
            "owner": "ml-platform",
        }
    )
    repos = {r.inputs["repositoryId"]: r.inputs for r in run.of_type(AR_REPOSITORY)}
    assert repos["llm"]["labels"] == {
        "model": "llm",
        "owner": "ml-platform",
        "environment": "prod",
        "tier": "silver",
    }
    assert repos["vision"]["labels"] == {
        "model": "resnet",
        "owner": "ml-platform",
        "environment": "prod",
        "tier": "gold",
    }
    assert repos["vision"]["description"] == "Vision models"
    # The example image is named after the model label.
    assert run.outputs["repositories"]["vision"]["example_image"].endswith("/vision/resnet:v1.4.0")


def test_no_container_registry_warning_on_default_backend(run_stack: RunStack) -> None:
    run = run_stack({})
    assert run.warnings == ()
    assert [r.type for r in run.resources if r.type.startswith("gcp:container")] == []
