"""Artifact Registry source: repositories, their IAM policies and Docker images, read-only.

Uses the real `google-cloud-artifact-registry` client over REST. The audit only calls
ListRepositories / GetRepository / GetIamPolicy / ListDockerImages, and ListAttachments in a repository
whose listing holds OCI 1.1 referrers. Anything it could not read becomes a `ScanError` naming the
repository (or the project/location) and what was not read, so the report says `complete: false` instead
of silently judging less.

Signatures, attestations and SBOMs are attached to the image they describe, but their content is not read:
this API does not serve it (the registry's Docker endpoint does, `--registry`). cosign's tags name the digest
they describe; a referrer is listed as an untagged image that does not say which image it refers to, and
its attachment (ListAttachments: `target`, and `ociVersionName` for the referrer itself) does.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from google.api_core import retry as gretry
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import artifactregistry_v1
from google.iam.v1 import iam_policy_pb2, policy_pb2
from google.protobuf import duration_pb2
from registry_guard.catalogue.model import (
    CleanupCondition,
    CleanupPolicy,
    Condition,
    Grant,
    Image,
    MostRecentVersions,
    RegistryState,
    Repository,
    ResourceRef,
    SupplyChainArtifact,
)
from registry_guard.catalogue.names import is_repository_id

from audit.errors import ScanError
from audit.progress import work
from audit.sharding import in_shard
from audit.sources.google_calls import READ_FAILURES, PagingLoopError, describe_failure, read_retry
from audit.sources.source import ReportTarget, SourceRead
from audit.sources.supply_chain import cosign_tag, is_supply_chain_tag, referrer_kind
from audit.sources.urls import is_loopback_host

SOURCE: Final = "artifact-registry"
MAX_PAGE_SIZE: Final = 1000  # ListRepositories / ListDockerImages / ListAttachments: "Maximum page size is 1,000"
IAM_POLICY_VERSION: Final = 3  # the only version that returns conditional bindings with conditions

_Repo = artifactregistry_v1.Repository
_DURATION_RE: Final = re.compile(r"(-)?([0-9]+)(?:\.([0-9]{1,9}))?s")
_MAX_DURATION_SECONDS: Final = 315_576_000_000  # google.protobuf.Duration's range (10,000 years)


# ---------------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArtifactRegistryScan:
    """What one scan of one project/location read, and what it could not."""

    state: RegistryState
    errors: tuple[ScanError, ...]
    repository_count: int  # repositories read (settings known)
    image_count: int
    image_pages: int  # ListDockerImages responses read, over all repositories

    @property
    def complete(self) -> bool:
        return not self.errors


# ---------------------------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------------------------


def parse_protobuf_duration(text: str) -> float:
    """Seconds in a google.protobuf.Duration JSON string ("86400s", "1.5s", "-0.000000001s").

    Strict: exactly the canonical grammar (digits, up to 9 fractional digits, trailing "s"),
    within Duration's range. Raises ValueError otherwise; a cleanup age must never be guessed.
    """
    match = _DURATION_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a protobuf Duration: {text!r}")
    sign, whole, fraction = match.groups()
    seconds = int(whole)
    nanos = int((fraction or "").ljust(9, "0"))
    if seconds > _MAX_DURATION_SECONDS:
        raise ValueError(f"Duration out of range: {text!r}")
    value = seconds + nanos / 1e9
    return -value if sign else value


def protobuf_duration_seconds(value: duration_pb2.Duration | str) -> float:
    """Seconds of a Duration, whether the client parsed it already or it is still JSON text."""
    if isinstance(value, str):
        return parse_protobuf_duration(value)
    return float(value.seconds + value.nanos / 1e9)


# ---------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------


def make_client(
    endpoint: str | None = None, credentials: Credentials | None = None
) -> artifactregistry_v1.ArtifactRegistryClient:
    """The real client over REST. Plain http is only allowed to loopback (a local fake), and
    there anonymous credentials are used unless some are given: ADC must never go out in clear."""
    options: ClientOptions | None = None
    if endpoint:
        parts = urlsplit(endpoint)  # lowercases the scheme: HTTP:// is plain http too
        if parts.scheme == "http":
            if not (parts.hostname and is_loopback_host(parts.hostname)):
                raise ValueError("an http:// Artifact Registry endpoint must be loopback; use https")
            if credentials is None:
                credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
        options = ClientOptions(api_endpoint=endpoint)
    return artifactregistry_v1.ArtifactRegistryClient(
        transport="rest", credentials=credentials, client_options=options
    )


# ---------------------------------------------------------------------------------------------
# Normalization (raw protobuf messages: explicit field presence, and fast for 100k images)
# ---------------------------------------------------------------------------------------------


def _enum_name(enum_type: Any, value: int) -> str:
    try:
        return str(enum_type(value).name)
    except ValueError:
        return str(value)  # a value newer than this client: keep it visible, do not guess


def _cleanup_policy(pb: Any) -> CleanupPolicy:
    condition: CleanupCondition | None = None
    if pb.HasField("condition"):
        c = pb.condition
        tag_state = _enum_name(artifactregistry_v1.CleanupPolicyCondition.TagState, c.tag_state)
        condition = CleanupCondition(
            tag_state=None if c.tag_state == 0 else tag_state,  # unspecified applies to ANY
            tag_prefixes=tuple(c.tag_prefixes),
            version_name_prefixes=tuple(c.version_name_prefixes),
            package_name_prefixes=tuple(c.package_name_prefixes),
            older_than_seconds=protobuf_duration_seconds(c.older_than) if c.HasField("older_than") else None,
            newer_than_seconds=protobuf_duration_seconds(c.newer_than) if c.HasField("newer_than") else None,
        )
    recent: MostRecentVersions | None = None
    if pb.HasField("most_recent_versions"):
        r = pb.most_recent_versions
        recent = MostRecentVersions(
            keep_count=r.keep_count if r.HasField("keep_count") else None,
            package_name_prefixes=tuple(r.package_name_prefixes),
        )
    return CleanupPolicy(
        id=pb.id,
        action=_enum_name(artifactregistry_v1.CleanupPolicy.Action, pb.action),
        condition=condition,
        most_recent_versions=recent,
    )


def _repository(repo: artifactregistry_v1.Repository, call: str) -> Repository:
    pb: Any = _Repo.pb(repo)
    fmt = _enum_name(_Repo.Format, pb.format_)
    scanning_config = pb.vulnerability_scanning_config.enablement_config
    if scanning_config == 0:
        # ENABLEMENT_CONFIG_UNSPECIFIED "will be treated as INHERITED for Docker repositories
        # and DISABLED for non-Docker repositories" (types/repository.py).
        scanning = "INHERITED" if fmt == "DOCKER" else "DISABLED"
    else:
        scanning = _enum_name(_Repo.VulnerabilityScanningConfig.EnablementConfig, scanning_config)
    return Repository(
        ref=ResourceRef("repository", pb.name),
        format=fmt,
        mode=_enum_name(_Repo.Mode, pb.mode),
        immutable_tags=bool(pb.docker_config.immutable_tags),
        cleanup_policies=tuple(_cleanup_policy(pb.cleanup_policies[k]) for k in sorted(pb.cleanup_policies)),
        cleanup_dry_run=bool(pb.cleanup_policy_dry_run),
        scanning=scanning,
        scanning_state=_enum_name(_Repo.VulnerabilityScanningConfig.EnablementState,
                                  pb.vulnerability_scanning_config.enablement_state)
        if pb.vulnerability_scanning_config.enablement_state else None,
        scanning_state_reason=pb.vulnerability_scanning_config.enablement_state_reason or None,
        kms_key_name=pb.kms_key_name or None,
        labels=dict(pb.labels),
        source=f"{SOURCE} {call}",
    )


def _grants(ref: ResourceRef, policy: policy_pb2.Policy) -> Iterator[Grant]:
    for b in policy.bindings:
        condition = (
            Condition(b.condition.expression, b.condition.title, b.condition.description)
            if b.HasField("condition")
            else None
        )
        for member in b.members:
            yield Grant(ref, b.role, member, "iam-policy", condition, source=f"{SOURCE} GetIamPolicy")


def _utc(ts: Any) -> datetime:
    return datetime.fromtimestamp(ts.seconds, UTC).replace(microsecond=ts.nanos // 1000)


_IMAGE_SOURCE: Final = f"{SOURCE} ListDockerImages"
# Why a signature listed here was not verified: said in every release finding it leaves undetermined.
NOT_SERVED: Final = ("only the Artifact Registry API was scanned, which lists it but does not serve its content; "
                     "scan the registry's Docker endpoint too (--registry https://LOCATION-docker.pkg.dev) to "
                     "verify it")


def _image(ref: ResourceRef, pb: Any, packages: dict[str, str] | None = None) -> Image | None:
    """`…/dockerImages/<url-escaped package>@<digest>` → Image; None if the name is not that.

    `packages` caches unescaped package names: a repository holds many images of few packages,
    and at 100k images one shared string per package (and one shared `source`) saves ~15 MB."""
    _, marker, tail = pb.name.partition("/dockerImages/")
    escaped, at, digest = tail.rpartition("@")
    if not marker or not at or not escaped or ":" not in digest:
        return None
    package = packages.get(escaped) if packages is not None else None
    if package is None:
        package = unquote(escaped)
        if packages is not None:
            packages[escaped] = package
    return Image(
        repository=ref,
        package=package,
        digest=digest,
        tags=tuple(pb.tags),
        size_bytes=int(pb.image_size_bytes),
        uploaded=_utc(pb.upload_time) if pb.HasField("upload_time") else None,
        source=_IMAGE_SOURCE,
    )


# ---------------------------------------------------------------------------------------------
# The scan
# ---------------------------------------------------------------------------------------------


def _repository_name(parent: str, name: str) -> str:
    if name.startswith("projects/"):
        if not name.startswith(parent + "/repositories/") or "/" in name[len(parent) + 14 :]:
            raise ValueError(f"repository {name!r} is not in {parent}")
        return name
    if not is_repository_id(name):
        raise ValueError(f"not a repository id: {name!r}")
    return f"{parent}/repositories/{name}"


class _Scan:
    """Mutable accumulator for one scan; turned into the frozen result at the end."""

    def __init__(
        self,
        client: artifactregistry_v1.ArtifactRegistryClient,
        parent: str,
        page_size: int,
        retry: gretry.Retry,
        timeout: float,
    ) -> None:
        self.client = client
        self.parent = parent
        self.page_size = page_size
        self.retry = retry
        self.timeout = timeout
        self.repositories: list[Repository] = []
        self.grants: list[Grant] = []
        self.images: list[Image] = []
        self.iam_complete: set[ResourceRef] = set()
        self.errors: list[ScanError] = []
        self.pages = 0
        self.secrets: set[str] = set()  # page tokens seen: scrubbed from any message

    def error(self, target: str, what: str, exc: BaseException | None = None) -> None:
        message = f"{what}: {describe_failure(exc, self.secrets)}" if exc is not None else what
        self.errors.append(ScanError(SOURCE, target, message))

    def pages_of(self, pager: Any) -> Iterator[Any]:
        """The pager's pages; stops a server that hands out a page token twice (an endless loop)."""
        seen: set[str] = set()
        for page in pager.pages:
            token = page.next_page_token
            if token:
                if token in seen:
                    raise PagingLoopError("the server repeated a page token; paging would never end")
                seen.add(token)
                self.secrets.add(token)
            yield page

    def listed_repositories(self, shard: tuple[int, int] | None) -> Iterator[artifactregistry_v1.Repository]:
        read = 0
        try:
            pager = self.client.list_repositories(
                request={"parent": self.parent, "page_size": self.page_size},
                retry=self.retry,
                timeout=self.timeout,
            )
            for page in self.pages_of(pager):
                for repo in page.repositories:
                    read += 1
                    if in_shard(repo.name, shard):
                        yield repo
        except READ_FAILURES as exc:
            self.error(
                self.parent, f"repositories not listed completely ({read} read before the failure)", exc
            )

    def named_repositories(self, names: Sequence[str]) -> Iterator[artifactregistry_v1.Repository]:
        for name in names:
            try:
                yield self.client.get_repository(
                    request={"name": name}, retry=self.retry, timeout=self.timeout
                )
            except READ_FAILURES as exc:
                self.error(name, "repository not read (settings, IAM policy and images unknown)", exc)

    def read(self, repo: artifactregistry_v1.Repository, call: str) -> None:
        work().found("repositories")  # listed one by one: the total grows as the pages arrive
        try:
            repository = _repository(repo, call)
        except READ_FAILURES as exc:
            self.error(repo.name, "repository settings not understood (IAM policy and images not read)", exc)
            work().done("repositories")
            return
        self.repositories.append(repository)
        self.read_iam(repository.ref)
        # Only Docker repositories hold docker images; listing others is not a Docker question.
        if repository.format == "DOCKER":
            self.read_images(repository.ref)
        work().done("repositories")

    def read_iam(self, ref: ResourceRef) -> None:
        request = iam_policy_pb2.GetIamPolicyRequest(resource=ref.name)
        request.options.requested_policy_version = IAM_POLICY_VERSION
        try:
            policy = self.client.get_iam_policy(request=request, retry=self.retry, timeout=self.timeout)
        except READ_FAILURES as exc:
            self.error(ref.name, "IAM policy not read", exc)
            return
        if not policy.etag:
            # Every real policy carries an etag, even an empty one; without it the body was not a
            # policy (protobuf reads `[]` or `"x"` as an empty one) and "no bindings" would be a lie.
            self.error(ref.name, "IAM policy not read: the response is not a policy (no etag)")
            return
        self.grants.extend(_grants(ref, policy))
        self.iam_complete.add(ref)

    def read_images(self, ref: ResourceRef) -> None:
        read = pages = 0
        packages: dict[str, str] = {}
        first = len(self.images)
        referrers: list[tuple[str, str, str]] = []  # (package, digest, artifactType) of OCI 1.1 referrers
        try:
            pager = self.client.list_docker_images(
                request={"parent": ref.name, "page_size": self.page_size},
                retry=self.retry,
                timeout=self.timeout,
            )
            # Page by page: the pager keeps only the latest response, so memory is one page
            # plus the normalized images.
            for page in self.pages_of(pager):
                pages += 1
                self.pages += 1
                for pb in artifactregistry_v1.ListDockerImagesResponse.pb(page).docker_images:
                    if not pb.tags and pb.artifact_type and referrer_kind(pb.artifact_type, {}) is not None:
                        # An OCI 1.1 referrer (a Sigstore bundle, an SBOM, ...): not an image. The listing
                        # does not say which image it describes; its attachment does (below).
                        if (found := _image(ref, pb, packages)) is not None and found.digest:
                            referrers.append((found.package, found.digest, pb.artifact_type))
                        continue
                    image = _image(ref, pb, packages)
                    if image is None:
                        self.error(
                            ref.name, f"docker image name not understood, image not read: {pb.name[:200]}"
                        )
                        continue
                    read += 1
                    self.images.append(image)
                    work().done("tags", len(image.tags))  # a page carries its images' tags
        except READ_FAILURES as exc:
            self.error(
                ref.name,
                f"docker images not read completely ({read} read on {pages} pages before the failure)",
                exc,
            )
        self.images[first:] = _attach_cosign_artifacts(self.images[first:])
        if referrers:
            self.images[first:] = self.attach_referrers(ref, self.images[first:], referrers)

    def attach_referrers(self, ref: ResourceRef, images: list[Image],
                         referrers: list[tuple[str, str, str]]) -> list[Image]:
        """Each referrer attached to the image its attachment names as target. A referrer that cannot be tied
        (its repository's attachments could not be listed, or none is the referrer's) is a read error, and
        is attached to every tagged image of its package as one that was not read: a release rule then
        cannot call any of them unsigned."""
        subjects: dict[tuple[str, str], tuple[str, str, dict[str, str]]] = {}  # (pkg, referrer) -> subject
        listed = True
        try:
            pager = self.client.list_attachments(
                request={"parent": ref.name, "page_size": self.page_size}, retry=self.retry, timeout=self.timeout)
            for page in self.pages_of(pager):
                for pb in artifactregistry_v1.ListAttachmentsResponse.pb(page).attachments:
                    own, target = _version_of(ref.name, pb.oci_version_name), _version_of(ref.name, pb.target)
                    if own is not None and target is not None and own[0] == target[0]:
                        subjects[own] = (target[1], pb.type_, dict(pb.annotations))
        except READ_FAILURES as exc:
            self.error(ref.name, "attachments not listed: the OCI 1.1 referrers in this repository (signatures, "
                       "attestations, SBOMs) could not be tied to the images they refer to", exc)
            listed = False
        tied: dict[tuple[str, str], list[SupplyChainArtifact]] = {}
        untied: dict[str, list[SupplyChainArtifact]] = {}
        for package, digest, artifact_type in referrers:
            found = subjects.get((package, digest))
            if found is None:
                if listed:
                    self.error(ref.name, f"referrer {package}@{digest[:19]}… is not among the repository's "
                               "attachments: the image it refers to is not known")
                kind = referrer_kind(artifact_type, {}) or "signature"
                untied.setdefault(package, []).append(SupplyChainArtifact(
                    kind, "referrer", digest=digest, artifact_type=artifact_type,
                    problem="a referrer in this package could not be tied to the image it refers to"))
                continue
            subject, kind_type, annotations = found
            kind = referrer_kind(kind_type or artifact_type, annotations) or "signature"
            tied.setdefault((package, subject), []).append(SupplyChainArtifact(
                kind, "referrer", digest=digest, artifact_type=kind_type or artifact_type, annotations=annotations,
                problem=NOT_SERVED))
        out = []
        for image in images:
            extra = (*tied.get((image.package, image.digest or ""), ()),
                     *(untied.get(image.package, ()) if image.tags else ()))
            out.append(dataclasses.replace(image, attached=image.attached + extra) if extra else image)
        return out


def _version_of(repository: str, name: str) -> tuple[str, str] | None:
    """(package, digest) of a version name `REPOSITORY/packages/PKG/versions/DIGEST` (the package URL-escaped),
    None for a name that is not a version of `repository`."""
    prefix = repository + "/packages/"
    if not name.startswith(prefix):
        return None
    package, marker, version = name[len(prefix):].partition("/versions/")
    if not marker or not package or ":" not in version or "/" in version:
        return None
    return unquote(package), version


def _attach_cosign_artifacts(images: list[Image]) -> list[Image]:
    """One repository's listing with cosign's signatures, attestations and SBOMs (images tagged only
    `sha256-<hex>.sig|.att|.sbom`, or the referrers tag `sha256-<hex>`) taken out and attached to the image
    each describes. Their content is not read here (the Artifact Registry API does not serve it; `NOT_SERVED`
    says so): the OCI source reads it from the registry's Docker endpoint."""
    attached: dict[tuple[str, str], list[SupplyChainArtifact]] = {}
    kept: list[Image] = []
    for image in images:
        if not image.tags or not all(is_supply_chain_tag(tag) for tag in image.tags):
            kept.append(image)
            continue
        for tag in image.tags:
            if (found := cosign_tag(tag)) is not None:
                subject, kind = found
                attached.setdefault((image.package, subject), []).append(
                    SupplyChainArtifact(kind, "cosign-tag", digest=image.digest, tag=tag, problem=NOT_SERVED))
    if not attached:
        return kept
    return [dataclasses.replace(image, attached=tuple(attached[key]))
            if (key := (image.package, image.digest or "")) in attached else image for image in kept]


def scan_artifact_registry(
    project: str,
    location: str,
    *,
    repositories: Sequence[str] | None = None,
    endpoint: str | None = None,
    credentials: Credentials | None = None,
    page_size: int = MAX_PAGE_SIZE,
    retry_deadline: float = 60.0,
    timeout: float = 30.0,
    shard: tuple[int, int] | None = None,
) -> ArtifactRegistryScan:
    """Read every repository in `project`/`location` (or only `repositories`: ids or full names)
    with its settings, IAM policy (version 3) and docker images.

    `endpoint` overrides the API endpoint (`--artifact-registry-endpoint`); an http:// loopback
    endpoint is a local fake and gets anonymous credentials. Otherwise `credentials` or ADC.
    429/5xx, dropped connections and timeouts are retried until `retry_deadline` seconds; each
    request times out after `timeout`. `shard=(i, n)` keeps a stable 1/n of the repositories (the
    listing itself is cheap; images are the cost). Never raises for what it cannot read: see `errors`.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, not {page_size}")
    parent = f"projects/{project}/locations/{location}"
    names = (
        None
        if repositories is None
        else list(dict.fromkeys(_repository_name(parent, r) for r in repositories))
    )
    observed_at = datetime.now(UTC)
    try:
        client = make_client(endpoint, credentials)
    except auth_exceptions.DefaultCredentialsError as exc:  # no ADC: fail closed, say so
        error = ScanError(SOURCE, parent, f"nothing read: {describe_failure(exc)}")
        return ArtifactRegistryScan(RegistryState(observed_at=observed_at), (error,), 0, 0, 0)
    scan = _Scan(client, parent, page_size, read_retry(retry_deadline), timeout)
    try:
        if names is None:
            for repo in scan.listed_repositories(shard):
                scan.read(repo, "ListRepositories")
        else:
            for repo in scan.named_repositories([n for n in names if in_shard(n, shard)]):
                scan.read(repo, "GetRepository")
    finally:
        client.transport.close()  # type: ignore[no-untyped-call]
    state = RegistryState(
        repositories=tuple(scan.repositories),
        grants=tuple(scan.grants),
        images=tuple(scan.images),
        iam_complete_targets=frozenset(scan.iam_complete),
        observed_at=observed_at,
    )
    return ArtifactRegistryScan(
        state=state,
        errors=tuple(scan.errors),
        repository_count=len(scan.repositories),
        image_count=len(scan.images),
        image_pages=scan.pages,
    )


@dataclass(frozen=True)
class ArtifactRegistrySource:
    """One project/location (every repository, or only `repositories`) as a scan source."""

    project: str
    location: str
    repositories: tuple[str, ...] = ()
    endpoint: str | None = None
    timeout: float = 30.0
    shard: tuple[int, int] | None = None

    @property
    def key(self) -> str:
        return "artifact_registry"

    @property
    def description(self) -> str:
        return f"Artifact Registry {self.project}/{self.location}"

    def read(self) -> SourceRead:
        scan = scan_artifact_registry(self.project, self.location, repositories=self.repositories or None,
                                      endpoint=self.endpoint, timeout=self.timeout, shard=self.shard)
        target = {"project": self.project, "location": self.location,
                  "repositories": list(self.repositories) or "all", "endpoint": self.endpoint}
        # Every error names a repository (or the whole location) whose images were not all read.
        return SourceRead(scan.state, scan.errors, frozenset(e.target for e in scan.errors),
                          ReportTarget("artifact_registry", target, listed=False))
