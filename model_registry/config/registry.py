"""The whole stack config: the project, the backend, who has access, and the parts each backend and the
nightly audit read for themselves, composed into one frozen `RegistryConfig`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from model_registry.config.artifact_registry import AR_KEYS, ArtifactRegistryConfig, read_artifact_registry
from model_registry.config.audit_job import (
    GCR_AUDIT_REGIONS,
    MULTI_REGION_AUDIT_REGIONS,
    AuditConfig,
    read_audit_job,
)
from model_registry.config.container_registry import GCR_KEYS, GcrConfig, read_container_registry
from model_registry.config.errors import ConfigError
from model_registry.config.members import Members, read_members
from model_registry.config.reader import ConfigReader, config_namespace
from model_registry.config.validators import is_project_id

Backend = Literal["artifact-registry", "gcr"]
BACKENDS: tuple[Backend, ...] = ("artifact-registry", "gcr")

# Keys every backend accepts, and keys that only mean something for one backend. A key set for
# the other backend is refused rather than silently ignored (e.g. kmsKeyName on gcr).
COMMON_KEYS = ("backend", "readers", "writers", "admins", "audit")
ALLOWED_KEYS = (*COMMON_KEYS, *AR_KEYS, *GCR_KEYS)


@dataclass(frozen=True)
class RegistryConfig:
    """Everything the ModelRegistry component needs; exactly one of `artifact_registry` / `gcr` is set."""

    project: str
    backend: Backend
    members: Members
    artifact_registry: ArtifactRegistryConfig | None = None
    gcr: GcrConfig | None = None
    audit: AuditConfig | None = None  # None: no nightly audit job


def parse_config(raw: Mapping[str, Any], namespace: str = "model-registry") -> RegistryConfig:
    """Validate the raw config namespace (`{"<namespace>:key": "value", "gcp:project": ...}`).

    Values are strings as the Pulumi CLI passes them (JSON for lists and objects); already-decoded
    values (from tests or the automation API) are accepted too.
    """
    prefix = namespace + ":"
    own = {k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}
    for key in sorted(own):
        if key not in ALLOWED_KEYS:
            raise ConfigError(f"{prefix}{key}: unknown key; allowed keys are {', '.join(ALLOWED_KEYS)}")
    reader = ConfigReader(own, prefix)

    project = raw.get("gcp:project")
    if project is None or project == "":
        raise ConfigError("gcp:project: required; set it with `pulumi config set gcp:project <PROJECT_ID>`")
    if not isinstance(project, str) or not is_project_id(project):
        raise ConfigError(
            f"gcp:project: {project!r} is not a project id (6-30 lowercase letters, digits and hyphens, "
            "starting with a letter)"
        )

    backend = reader.string("backend", "artifact-registry")
    if backend not in BACKENDS:
        raise ConfigError(f"{prefix}backend: {backend!r} is not a backend; allowed: {', '.join(BACKENDS)}")

    # Refuse keys the chosen backend would silently ignore.
    foreign = GCR_KEYS if backend == "artifact-registry" else AR_KEYS
    for key in foreign:
        if key in own:
            other = "gcr" if backend == "artifact-registry" else "artifact-registry"
            hint = " (for gcr use gcrLocation: US, EU or ASIA)" if key == "location" else ""
            raise ConfigError(
                f"{prefix}{key}: only applies to backend {other}, but backend is {backend}{hint}"
            )

    members = read_members(reader)

    if backend == "gcr":
        gcr = read_container_registry(reader)
        audit = read_audit_job(reader, GCR_AUDIT_REGIONS[gcr.location])
        return RegistryConfig(project, "gcr", members, gcr=gcr, audit=audit)
    ar = read_artifact_registry(reader)
    audit = read_audit_job(reader, MULTI_REGION_AUDIT_REGIONS.get(ar.location, ar.location))
    return RegistryConfig(project, "artifact-registry", members, artifact_registry=ar, audit=audit)


def load_config() -> RegistryConfig:
    """Parse the running program's config under the current project's namespace."""
    import pulumi

    return parse_config(config_namespace(), pulumi.get_project())
