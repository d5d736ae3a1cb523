"""The normalized model every source produces and every rule judges.

Sources (live Artifact Registry, the Container Registry bucket, any OCI registry, a
`pulumi stack export`, the policy pack's resource properties) all become these few frozen
dataclasses, so a rule is written once and means the same at deploy time and at night.

A value that could not be known (a preview-time unknown, a field the scan could not read)
is `UNKNOWN`, never a guessed default: rules report such a value as undetermined instead of
passing it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from typing_extensions import TypeIs

if TYPE_CHECKING:
    from .access_model import AccessContext, EffectiveAccess


class _Unknown(enum.Enum):
    UNKNOWN = "unknown"

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown.UNKNOWN
Unknown = Literal[_Unknown.UNKNOWN]


def is_unknown(value: object) -> TypeIs[Unknown]:
    return value is UNKNOWN


# How a name that is not known until the stack is applied appears inside a model name (a target whose
# reference is computed, e.g. `projects/p/locations/l/repositories/[unknown until apply]`).
UNKNOWN_NAME: Final = "[unknown until apply]"


def names_unknown(name: str) -> bool:
    return UNKNOWN_NAME in name


class Subject(enum.Enum):
    """What a rule judges: one kind of record of `RegistryState`. Rules declare their subjects, and the
    pack derives from them which resource types each policy needs to see."""

    REPOSITORY = "repository"
    BUCKET = "bucket"
    CONTAINER_REGISTRY = "container-registry"
    GRANT = "grant"
    IMAGE = "image"
    # IAM resources as a stack declares them: judged across the whole stack, never one resource alone.
    IAM_DECLARATION = "iam-declaration"
    # The audit's own scan history: its snapshots and the chain between them.
    HISTORY = "history"

    @property
    def whole_stack(self) -> bool:
        return self is Subject.IAM_DECLARATION


TargetKind = Literal[
    "repository", "bucket", "object", "project", "folder", "organization", "service-account", "container-registry",
    "image",
]

GrantShape = Literal[
    "iam-member",  # one member, non-authoritative (…IamMember)
    "iam-binding",  # one role, authoritative for that role (…IamBinding)
    "iam-policy",  # the whole policy, authoritative (…IamPolicy / live getIamPolicy)
    "bucket-acl",  # a bucket ACL entry
    "default-object-acl",  # a default object ACL entry
    "object-acl",  # an ACL entry of one object
]


@dataclass(frozen=True, order=True)
class ResourceRef:
    """What a finding is about. `name` is the resource's own full name where it has one."""

    kind: TargetKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Condition:
    """An IAM condition. Kept only as evidence: a condition never makes a grant safe."""

    expression: str
    title: str = ""
    description: str = ""


@dataclass(frozen=True)
class Grant:
    """One role given to one principal on one target, through one shape.

    ACL entries are normalized too: `role` is `acl:READER|WRITER|OWNER` and `member` uses IAM
    spelling (`allUsers`, `user:a@b`, `group:…`, `domain:…`).
    """

    target: ResourceRef
    role: str | Unknown
    member: str | Unknown
    shape: GrantShape
    condition: Condition | None = None
    source: str = ""  # a Pulumi URN or the API the grant was read from, for evidence


@dataclass(frozen=True)
class IamDeclaration:
    """An IAM resource as declared in a stack, for cross-resource rules (authoritative conflicts)."""

    target: ResourceRef
    shape: GrantShape
    role: str | None  # None for a whole-policy resource
    source: str
    # The binding's IAM condition ("" for none): the provider manages a role once per condition.
    condition: str = ""
    members: tuple[str, ...] = ()  # what a member or binding resource grants, for messages


@dataclass(frozen=True)
class CleanupCondition:
    tag_state: str | None = None  # TAGGED | UNTAGGED | ANY (None = ANY)
    tag_prefixes: tuple[str, ...] = ()
    version_name_prefixes: tuple[str, ...] = ()
    package_name_prefixes: tuple[str, ...] = ()
    older_than_seconds: float | None = None
    newer_than_seconds: float | None = None


@dataclass(frozen=True)
class MostRecentVersions:
    keep_count: int | None = None
    package_name_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CleanupPolicy:
    id: str
    action: str  # DELETE | KEEP
    condition: CleanupCondition | None = None
    most_recent_versions: MostRecentVersions | None = None


@dataclass(frozen=True)
class Repository:
    """An Artifact Registry repository and the settings the rules judge."""

    ref: ResourceRef
    format: str | Unknown = "DOCKER"
    mode: str | Unknown = "STANDARD_REPOSITORY"
    immutable_tags: bool | Unknown = False
    cleanup_policies: tuple[CleanupPolicy, ...] | Unknown = ()
    cleanup_dry_run: bool | Unknown = False
    scanning: str | Unknown = "INHERITED"  # INHERITED | DISABLED (AR's enablementConfig)
    # What the scanner says it does (enablementState), live only: INHERITED can still be inactive,
    # e.g. when the Container Scanning API is off in the project.
    scanning_state: str | None = None  # SCANNING_ACTIVE | SCANNING_DISABLED | SCANNING_UNSUPPORTED
    scanning_state_reason: str | None = None
    kms_key_name: str | Unknown | None = None
    labels: Mapping[str, str] | Unknown = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class Bucket:
    """A Cloud Storage bucket the registry depends on (Container Registry's, or the audit's reports)."""

    ref: ResourceRef
    uniform_access: bool | Unknown = False
    public_access_prevention: str | Unknown = "inherited"  # enforced | inherited
    is_container_registry: bool = False
    source: str = ""


@dataclass(frozen=True)
class LegacyRegistry:
    """A Container Registry (gcr.io) registry: a `gcp.container.Registry` or a live `artifacts.*` bucket."""

    ref: ResourceRef  # kind container-registry, name e.g. "eu.gcr.io/my-project"
    bucket: str | Unknown
    source: str = ""


# What a supply-chain artifact says about the image it is attached to.
ArtifactKind = Literal["signature", "attestation", "sbom"]
# How it is stored: under cosign's tag (`sha256-<hex>.sig|.att|.sbom`) or as an OCI 1.1 referrer (a manifest
# whose `subject` is the image, found through the referrers API or its `sha256-<hex>` tag fallback).
StoredAs = Literal["cosign-tag", "referrer"]


@dataclass(frozen=True)
class ArtifactLayer:
    """One layer of a supply-chain artifact as stored: its media type, annotations (cosign keeps the
    signature, certificate and transparency-log bundle there) and content (the signed payload, a DSSE
    envelope or a Sigstore bundle). These are the inputs signature verification reads."""

    media_type: str
    digest: str
    annotations: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = None  # None when not read (only version-tagged images' artifacts are read)


@dataclass(frozen=True)
class SupplyChainArtifact:
    """A signature, attestation or SBOM stored in the registry about one image digest. Never an image
    itself: it is attached to the image it describes and no rule judges it as one.

    `layers` is empty and `read` False when the source did not fetch its content (artifacts of images
    without a version tag are only noted); `problem` says why content that was wanted could not be read."""

    kind: ArtifactKind
    stored_as: StoredAs
    digest: str | None = None  # its own manifest digest (None when only its tag was seen)
    tag: str | None = None
    artifact_type: str = ""  # the OCI artifactType, or the config media type of an older artifact
    annotations: Mapping[str, str] = field(default_factory=dict)
    layers: tuple[ArtifactLayer, ...] = ()
    read: bool = False
    problem: str | None = None


# The OCI image annotation and label keys the inventory keeps (opencontainers image-spec, annotations.md).
OCI_IMAGE_KEYS: Final = tuple(f"org.opencontainers.image.{key}" for key in (
    "version", "created", "source", "revision", "licenses", "title"))


@dataclass(frozen=True)
class ModelArtifact:
    """A model packaged as an OCI artifact, as its config declares it: `packaging` is "ModelPack" (CNCF
    ModelPack, application/vnd.cncf.model.*) or "KitOps ModelKit" (application/vnd.kitops.modelkit.*).
    `size_bytes` is the sum of the manifest's model-weight layers; None where nothing is declared."""

    packaging: str
    name: str | None = None
    version: str | None = None
    format: str | None = None
    framework: str | None = None
    size_bytes: int | None = None
    license: str | None = None
    parameters: str | None = None  # ModelPack's paramSize, e.g. "8b"


@dataclass(frozen=True)
class ImageMetadata:
    """What a released image says about itself: the OCI keys (`OCI_IMAGE_KEYS`) among its config's labels and
    its manifest's annotations, and the model it packages. `problem` says what could not be read."""

    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    model: ModelArtifact | None = None
    problem: str | None = None

    def declared(self, key: str) -> str | None:
        """`org.opencontainers.image.<key>` as the image declares it: its config's label, else its manifest's
        annotation."""
        name = f"org.opencontainers.image.{key}"
        return self.labels.get(name) or self.annotations.get(name) or None


@dataclass(frozen=True)
class Image:
    """One image (manifest digest) in a repository, with every tag that points at it, and the signatures,
    attestations and SBOMs stored about it (`attached`). `metadata` is what it says about itself, read for
    released versions (None: not read by the source that listed it)."""

    repository: ResourceRef
    package: str  # image name inside the registry, e.g. "models/llm"
    digest: str | None  # None when not known yet (an image a stack is about to build)
    tags: tuple[str, ...]
    size_bytes: int | None = None
    uploaded: datetime | None = None
    source: str = ""
    attached: tuple[SupplyChainArtifact, ...] = ()
    metadata: ImageMetadata | None = None

    @property
    def ref(self) -> ResourceRef:
        image = f"{self.package}@{self.digest}" if self.digest else f"{self.package}:{','.join(self.tags)}"
        return ResourceRef("image", f"{self.repository.name}/{image}")


@dataclass(frozen=True)
class Unjudged:
    """Something of `subject` a source could not read well enough for any rule to judge it.

    Every rule on `subject` reports it: as "could not judge" (a value unknown at preview), or, when
    `fails_closed`, as a finding with `evidence` (an IAM policy document that is not JSON can hide any
    member, so it is treated as the worst it could hide)."""

    subject: Subject
    resource: str
    reason: str
    fails_closed: bool = False
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SnapshotRecord:
    """One stored history snapshot as a scan read it back. `digest` is of the stored bytes; `sequence` is
    the scan's own count (None for a snapshot written before snapshots were chained); `previous` and
    `previous_digest` are the predecessor it records; `problem` says why it cannot be used (wrong shape,
    a name that disagrees with its content), and then `taken_at` may be unknown."""

    name: str
    digest: str
    sequence: int | None = None
    taken_at: datetime | None = None
    previous: str | None = None
    previous_digest: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class HistoryChain:
    """What a scan found in its history: the newest snapshot (None when none is left) and the one it names
    as its predecessor (None when that one is missing, or none is named), the sequence of every chained
    snapshot (read from the names, so a gap anywhere shows), snapshots passed over while looking for a
    usable one, and files that are not snapshots at all."""

    location: str
    latest: SnapshotRecord | None
    predecessor: SnapshotRecord | None = None
    sequences: tuple[int, ...] = ()
    passed_over: tuple[SnapshotRecord, ...] = ()
    strays: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegistryState:
    """Everything known about one registry estate at one moment, from one source."""

    repositories: tuple[Repository, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    legacy_registries: tuple[LegacyRegistry, ...] = ()
    grants: tuple[Grant, ...] = ()
    iam_declarations: tuple[IamDeclaration, ...] = ()
    images: tuple[Image, ...] = ()
    unjudged: tuple[Unjudged, ...] = ()
    # Targets whose IAM could be read completely (live) or is declared authoritatively:
    # only for those can drift say a member was "added" rather than "not declared here".
    iam_complete_targets: frozenset[ResourceRef] = frozenset()
    # When the state was observed; cleanup simulation ages images against it.
    observed_at: datetime | None = None
    # The scan history an earlier state was read from (the HISTORY stage's `previous`).
    history: HistoryChain | None = None
    # Effective access (the live scan with --effective-access): what it is computed from, or, from Policy
    # Analyzer, what it is (catalogue/access_model.py). None: only the repositories' and buckets' own IAM was read.
    access: AccessContext | None = None
    effective: EffectiveAccess | None = None

    def merged(self, other: RegistryState) -> RegistryState:
        return RegistryState(
            repositories=self.repositories + other.repositories,
            buckets=self.buckets + other.buckets,
            legacy_registries=self.legacy_registries + other.legacy_registries,
            grants=self.grants + other.grants,
            iam_declarations=self.iam_declarations + other.iam_declarations,
            images=self.images + other.images,
            unjudged=self.unjudged + other.unjudged,
            iam_complete_targets=self.iam_complete_targets | other.iam_complete_targets,
            observed_at=self.observed_at or other.observed_at,
            history=self.history or other.history,
            access=self.access or other.access,
            effective=self.effective or other.effective,
        )
