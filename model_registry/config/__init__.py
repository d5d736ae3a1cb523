"""Stack configuration: parsed once, validated at preview, handed to the components as frozen data.

Why validate apart from the components: every mistake a user can make in `Pulumi.<stack>.yaml` should
stop `pulumi preview` with one line that names the key and says what is allowed, before a single
resource is declared. The components then only ever see values that are already valid.

`parse_config` is a pure function of the raw config namespace (`{"model-registry:key": "value"}`),
so it is tested without Pulumi; `load_config` reads that namespace from the running program.

One module per concern:
  reader              the raw namespace of the running program and typed access to its keys
  registry            the whole config: project, backend, keys allowed, `parse_config`, `load_config`
  members             readers, writers and admins (either backend)
  artifact_registry   repositories, labels, cleanup, CMEK key
  container_registry  the legacy gcr.io location
  audit_job           the nightly audit job (`model-registry:audit`)
  validators          checks for single values (regions, labels, cron, time zone, bucket, image, KMS key)
  errors              `ConfigError`
"""

from __future__ import annotations

from model_registry.config.artifact_registry import (
    DEFAULT_VERSION_TAG_PREFIXES,
    ArtifactRegistryConfig,
    CleanupSpec,
    RepositorySpec,
)
from model_registry.config.audit_job import AUDIT_KEYS, AuditConfig
from model_registry.config.container_registry import GcrConfig
from model_registry.config.errors import ConfigError
from model_registry.config.members import Members
from model_registry.config.reader import config_namespace
from model_registry.config.registry import ALLOWED_KEYS, BACKENDS, Backend, RegistryConfig, load_config, parse_config

__all__ = [
    "ALLOWED_KEYS",
    "AUDIT_KEYS",
    "BACKENDS",
    "DEFAULT_VERSION_TAG_PREFIXES",
    "ArtifactRegistryConfig",
    "AuditConfig",
    "Backend",
    "CleanupSpec",
    "ConfigError",
    "GcrConfig",
    "Members",
    "RegistryConfig",
    "RepositorySpec",
    "config_namespace",
    "load_config",
    "parse_config",
]
