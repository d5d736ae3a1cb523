"""Settings both the policy pack (`--policy-pack-config`) and the audit (`--config`) accept."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .names import LABEL_KEY_PATTERN

# Semantic versioning with an optional `v` and pre-release part; Docker tags cannot carry `+build`.
DEFAULT_VERSION_TAG_PATTERN = (
    r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
)
DEFAULT_REQUIRED_LABELS = ("owner", "model")

# JSON schema of each setting, shared by the pack's config schema and the audit's --config check.
SETTINGS_SCHEMA: dict[str, dict[str, Any]] = {
    "allowedAdmins": {
        "type": "array",
        "items": {"type": "string", "pattern": "^(group|serviceAccount|principal|principalSet):"},
        "default": [],
        "description": "Principals allowed to hold admin-class roles (groups, service accounts, workload identities).",
    },
    "allowedWriters": {
        "type": "array",
        "items": {"type": "string", "pattern": "^(domain:|principalSet:|projectOwner:|projectEditor:|projectViewer:)"},
        "default": [],
        "description": "Broad principals (a domain, a workload or workforce identity pool or attribute set, a "
        "project team) allowed to hold write roles, e.g. the attribute set of one CI repository.",
    },
    "versionTagPattern": {
        "type": "string",
        "minLength": 1,
        "default": DEFAULT_VERSION_TAG_PATTERN,
        "description": "Regular expression a version tag matches (default: semantic versioning, optional v).",
    },
    "requiredLabels": {
        "type": "array",
        "items": {"type": "string", "pattern": LABEL_KEY_PATTERN},
        "default": list(DEFAULT_REQUIRED_LABELS),
        "description": "Labels every repository carries.",
    },
    "adminRoles": {
        "type": "array",
        "items": {"type": "string", "pattern": "^(roles/|projects/|organizations/)"},
        "default": [],
        "description": "Extra roles (e.g. custom roles) that count as admin-class.",
    },
    "signedReleases": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": [],
        "description": "Which released versions must be signed: patterns (fnmatch) over REPOSITORY/IMAGE:TAG "
        "of version tags, e.g. '*' for every one, '*/models/*:v*' for some (default: none).",
    },
    "provenanceReleases": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": [],
        "description": "Which released versions must carry SLSA provenance from an allowed builder: patterns "
        "(fnmatch) over REPOSITORY/IMAGE:TAG of version tags (default: none).",
    },
    "trustedKeys": {
        "type": "array",
        "items": {"type": "object", "required": ["name", "publicKey"], "additionalProperties": False,
                  "properties": {"name": {"type": "string", "minLength": 1},
                                 "publicKey": {"type": "string", "pattern": "^-----BEGIN PUBLIC KEY-----"}}},
        "default": [],
        "description": "cosign public keys (PEM: ECDSA P-256, Ed25519 or RSA) whose signatures count.",
    },
    "trustedIdentities": {
        "type": "array",
        "items": {"type": "object", "required": ["issuer", "subjectPattern"], "additionalProperties": False,
                  "properties": {"issuer": {"type": "string", "minLength": 1},
                                 "subjectPattern": {"type": "string", "minLength": 1}}},
        "default": [],
        "description": "Keyless Sigstore identities whose signatures count: the OIDC issuer, and a regular "
        "expression the certificate's subject matches whole (e.g. the CI workflow that builds models).",
    },
    "sigstoreTrustedRoot": {
        "type": "string",
        "default": "",
        "description": "Path of the Sigstore trusted_root.json (relative to the settings file it is written in) "
        "that keyless signatures, and the transparency-log entries any signature carries, are verified against, "
        "offline (Fulcio CAs, Rekor and CT log keys, timestamp authorities).",
    },
    "allowedBuilders": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": [],
        "description": "SLSA builder ids (runDetails.builder.id, or builder.id in SLSA 0.2) whose provenance counts.",
    },
}

ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class SettingsError(ValueError):
    """A setting is malformed; the message names the key and what is allowed."""


@dataclass(frozen=True)
class Settings:
    allowed_admins: tuple[str, ...] = ()
    allowed_writers: tuple[str, ...] = ()
    version_tag_pattern: str = DEFAULT_VERSION_TAG_PATTERN
    required_labels: tuple[str, ...] = DEFAULT_REQUIRED_LABELS
    admin_roles: tuple[str, ...] = ()
    signed_releases: tuple[str, ...] = ()
    provenance_releases: tuple[str, ...] = ()
    trusted_keys: tuple[tuple[str, str], ...] = ()  # (name, PEM public key)
    trusted_identities: tuple[tuple[str, str], ...] = ()  # (OIDC issuer, subject pattern)
    sigstore_trusted_root: str = ""
    allowed_builders: tuple[str, ...] = ()

    @property
    def version_regex(self) -> re.Pattern[str]:
        return re.compile(self.version_tag_pattern)

    def is_version_tag(self, tag: str) -> bool:
        return self.version_regex.search(tag) is not None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Settings:
        """Build from the camelCase config both tools accept; unknown keys are the caller's business."""

        def str_list(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
            value = raw.get(key, list(default))
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise SettingsError(f"{key}: expected a list of strings, got {value!r}")
            return tuple(value)

        pattern = raw.get("versionTagPattern", DEFAULT_VERSION_TAG_PATTERN)
        if not isinstance(pattern, str) or not pattern:
            raise SettingsError(f"versionTagPattern: expected a non-empty regular expression, got {pattern!r}")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SettingsError(f"versionTagPattern: not a valid regular expression ({exc})") from None
        admins = str_list("allowedAdmins", ())
        for member in admins:
            if not re.match(SETTINGS_SCHEMA["allowedAdmins"]["items"]["pattern"], member):
                raise SettingsError(
                    f"allowedAdmins: {member!r} is not allowed; use group:, serviceAccount:, "
                    "principal:// or principalSet:// principals"
                )
        writers = str_list("allowedWriters", ())
        for member in writers:
            if not re.match(SETTINGS_SCHEMA["allowedWriters"]["items"]["pattern"], member):
                raise SettingsError(
                    f"allowedWriters: {member!r} is not allowed; list broad principals only (domain:, "
                    "principalSet://, projectOwner:/projectEditor:/projectViewer:)"
                )
        def pairs(key: str, first: str, second: str) -> tuple[tuple[str, str], ...]:
            value = raw.get(key, [])
            if not isinstance(value, list | tuple) or not all(
                    isinstance(v, Mapping) and isinstance(v.get(first), str) and isinstance(v.get(second), str)
                    for v in value):
                raise SettingsError(f"{key}: expected a list of objects with {first} and {second}")
            return tuple((v[first], v[second]) for v in value)

        identities = pairs("trustedIdentities", "issuer", "subjectPattern")
        for _, subject_pattern in identities:
            try:
                re.compile(subject_pattern)
            except re.error as exc:
                raise SettingsError(f"trustedIdentities: subjectPattern is not a valid regular expression ({exc})") \
                    from None
        keys = pairs("trustedKeys", "name", "publicKey")
        for name, pem in keys:
            if not pem.startswith("-----BEGIN PUBLIC KEY-----"):
                raise SettingsError(f"trustedKeys: {name!r} is not a PEM public key (-----BEGIN PUBLIC KEY-----)")
        root = raw.get("sigstoreTrustedRoot", "")
        if not isinstance(root, str):
            raise SettingsError("sigstoreTrustedRoot: expected the path of a trusted_root.json")
        return cls(
            allowed_admins=admins,
            allowed_writers=writers,
            version_tag_pattern=pattern,
            required_labels=str_list("requiredLabels", DEFAULT_REQUIRED_LABELS),
            admin_roles=str_list("adminRoles", ()),
            signed_releases=str_list("signedReleases", ()),
            provenance_releases=str_list("provenanceReleases", ()),
            trusted_keys=keys,
            trusted_identities=identities,
            sigstore_trusted_root=root,
            allowed_builders=str_list("allowedBuilders", ()),
        )
