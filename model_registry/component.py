"""The ModelRegistry component: a registry for versioned model images, least privilege by construction.

Why a ComponentResource: one logical thing ("the model registry") owns the repositories (or the
legacy Container Registry) and every grant on them, so `pulumi stack` shows them grouped and the
policy pack can see which grants belong to which registry through the parent chain.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_gcp as gcp
from registry_guard.catalogue.container_registry import container_registry_host

from model_registry.config import ArtifactRegistryConfig, GcrConfig, Members, RegistryConfig, RepositorySpec

TYPE_TOKEN = "model-registry-guard:index:ModelRegistry"

# One role per access level. Reader and writer are the narrowest roles that allow pull and push;
# admin roles are only granted when `admins` lists someone.
AR_ROLES: Mapping[str, str] = {
    "readers": "roles/artifactregistry.reader",
    "writers": "roles/artifactregistry.writer",
    "admins": "roles/artifactregistry.repoAdmin",
}
# Container Registry access is bucket IAM on the registry's backing bucket (Google's documented
# roles: objectViewer to pull, legacyBucketWriter to push, storage.admin to administer).
GCR_ROLES: Mapping[str, str] = {
    "readers": "roles/storage.objectViewer",
    "writers": "roles/storage.legacyBucketWriter",
    "admins": "roles/storage.admin",
}
LEVEL_NAMES: Mapping[str, str] = {"readers": "reader", "writers": "writer", "admins": "admin"}

EXAMPLE_VERSION = "v1.4.0"
GCR_SHUTDOWN_WARNING = (
    "backend gcr: Google has shut Container Registry down (writes stopped on 2025-03-18); pushes to this "
    "registry will fail. Artifact Registry is the default backend: set model-registry:backend to "
    "artifact-registry (or remove it) and move images to Artifact Registry."
)


def docker_project_path(project: str) -> str:
    """Legacy domain-scoped project ids (example.com:proj) appear as example.com/proj in image paths."""
    return project.replace(":", "/")


def example_version(prefixes: tuple[str, ...]) -> str:
    """A version tag the KEEP policy protects, so the example never shows a tag cleanup could delete."""
    if any(EXAMPLE_VERSION.startswith(prefix) for prefix in prefixes):
        return EXAMPLE_VERSION
    return f"{prefixes[0]}{EXAMPLE_VERSION.lstrip('v')}"


def docker_commands(image_path: str, model: str, version: str) -> dict[str, str]:
    target = f"{image_path}/{model}:{version}"
    return {
        "example_image": target,
        "tag_command": f"docker tag IMAGE {target}",
        "push_command": f"docker push {target}",
    }


def member_slug(member: str) -> str:
    """A readable, collision-free resource-name part for a principal (members carry : @ / which
    make poor resource names; the hash keeps two similar members apart)."""
    readable = re.sub(r"[^a-z0-9]+", "-", member.lower()).strip("-")[:40].rstrip("-")
    return f"{readable}-{hashlib.sha256(member.encode()).hexdigest()[:8]}"


def _grants(members: Members) -> list[tuple[str, str]]:
    """(access level, member) pairs in a stable order: readers, writers, admins."""
    return [
        (level, member) for level in ("readers", "writers", "admins") for member in getattr(members, level)
    ]


class ModelRegistry(pulumi.ComponentResource):
    """Artifact Registry Docker repositories (default) or the legacy Container Registry, with
    non-authoritative IAM grants for readers, writers and admins from config.

    `outputs` holds the values to export: hosts, paths, resource names and example docker commands.
    """

    outputs: dict[str, Any]

    def __init__(self, name: str, config: RegistryConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        self._name = name
        self._config = config
        if config.artifact_registry is not None:
            self.outputs = self._artifact_registry(config.artifact_registry)
        elif config.gcr is not None:
            self.outputs = self._container_registry(config.gcr)
        else:  # parse_config always sets one; guard against hand-built configs
            raise ValueError("RegistryConfig needs artifact_registry or gcr")
        self.register_outputs(self.outputs)

    # -- Artifact Registry ----------------------------------------------------------------------

    def _artifact_registry(self, ar: ArtifactRegistryConfig) -> dict[str, Any]:
        project = self._config.project
        host = f"{ar.location}-docker.pkg.dev"
        version = example_version(ar.cleanup.version_tag_prefixes)
        repositories: dict[str, Any] = {}
        for spec in ar.repositories:
            repository = self._repository(ar, spec)
            for level, member in _grants(self._config.members):
                gcp.artifactregistry.RepositoryIamMember(
                    f"{self._name}-{spec.name}-{LEVEL_NAMES[level]}-{member_slug(member)}",
                    project=repository.project,
                    location=repository.location,
                    repository=repository.repository_id,
                    role=AR_ROLES[level],
                    member=member,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            image_path = f"{host}/{docker_project_path(project)}/{spec.name}"
            repositories[spec.name] = {
                "repository_id": spec.name,
                "resource_name": repository.id,  # projects/<p>/locations/<l>/repositories/<id>
                "docker_host": host,
                "image_path": image_path,
                **docker_commands(image_path, spec.model, version),
            }
        return {
            "backend": "artifact-registry",
            "project": project,
            "location": ar.location,
            "docker_host": host,
            "repositories": repositories,
        }

    def _repository(
        self, ar: ArtifactRegistryConfig, spec: RepositorySpec
    ) -> gcp.artifactregistry.Repository:
        cleanup = ar.cleanup
        return gcp.artifactregistry.Repository(
            f"{self._name}-{spec.name}",
            project=self._config.project,
            location=ar.location,
            repository_id=spec.name,
            format="DOCKER",
            mode="STANDARD_REPOSITORY",
            description=spec.description,
            labels=dict(spec.labels),
            # A released version tag can never be moved to another digest or deleted.
            docker_config=gcp.artifactregistry.RepositoryDockerConfigArgs(immutable_tags=True),
            # AR applies KEEP before DELETE: untagged layers from rebuilt images age out, while
            # every version-tagged image and the most recent versions are always kept.
            cleanup_policies=[
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="delete-untagged",
                    action="DELETE",
                    condition=gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs(
                        tag_state="UNTAGGED",
                        older_than=f"{cleanup.untagged_retention_days * 86400}s",
                    ),
                ),
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="keep-version-tags",
                    action="KEEP",
                    condition=gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs(
                        tag_state="TAGGED",
                        tag_prefixes=list(cleanup.version_tag_prefixes),
                    ),
                ),
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="keep-recent-versions",
                    action="KEEP",
                    most_recent_versions=gcp.artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(
                        keep_count=cleanup.keep_recent_versions,
                    ),
                ),
            ],
            cleanup_policy_dry_run=cleanup.dry_run,
            # Stated explicitly so drift checks compare against a declared value; never DISABLED.
            vulnerability_scanning_config=gcp.artifactregistry.RepositoryVulnerabilityScanningConfigArgs(
                enablement_config="INHERITED",
            ),
            kms_key_name=ar.kms_key_name,
            opts=pulumi.ResourceOptions(parent=self),
        )

    # -- Container Registry (legacy) ------------------------------------------------------------

    def _container_registry(self, gcr: GcrConfig) -> dict[str, Any]:
        project = self._config.project
        pulumi.log.warn(GCR_SHUTDOWN_WARNING, resource=self)
        registry = gcp.container.Registry(
            f"{self._name}-gcr",
            project=project,
            location=gcr.location,
            opts=pulumi.ResourceOptions(parent=self),
        )
        for level, member in _grants(self._config.members):
            gcp.storage.BucketIAMMember(
                f"{self._name}-gcr-{LEVEL_NAMES[level]}-{member_slug(member)}",
                # The registry's id is its backing bucket, artifacts.<project>.appspot.com
                # (or <us|eu|asia>.artifacts.<project>.appspot.com).
                bucket=registry.id,
                role=GCR_ROLES[level],
                member=member,
                opts=pulumi.ResourceOptions(parent=self),
            )
        host = container_registry_host(gcr.location)
        registry_url = f"{host}/{docker_project_path(project)}"
        return {
            "backend": "gcr",
            "project": project,
            "docker_host": host,
            "registry_url": registry_url,
            "bucket_name": registry.id,
            **docker_commands(registry_url, "MODEL", EXAMPLE_VERSION),
        }
