"""Container Registry bucket source: a bucket's UBLA/PAP, IAM policy and ACLs, read-only.

Why the real `google-cloud-storage` client: it is what production uses (ADC, retries,
STORAGE_EMULATOR_HOST for tests), so the tests exercise the same code path. Only reads are
issued: buckets.get, getIamPolicy (v3, so conditional bindings are returned, not refused),
bucketAccessControls.list and defaultObjectAccessControls.list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from google.api_core import exceptions as gexc
from google.cloud import storage  # type: ignore[attr-defined,unused-ignore]  # untyped; namespace shared with typed google.cloud packages
from registry_guard.catalogue.container_registry import container_registry_of_bucket
from registry_guard.catalogue.model import (
    UNKNOWN,
    Bucket,
    Condition,
    Grant,
    GrantShape,
    LegacyRegistry,
    RegistryState,
    ResourceRef,
    Unknown,
)
from registry_guard.catalogue.principals import acl_entity_to_member

from audit.errors import ScanError
from audit.progress import work
from audit.sources.source import ReportTarget, SourceRead

SOURCE: Final = "gcs"
_T = TypeVar("_T")


@dataclass(frozen=True)
class GcsBucketScan:
    """What one read of one bucket saw; `notes` are facts that are not errors (e.g. ACLs not
    applicable under uniform bucket-level access)."""

    state: RegistryState
    errors: tuple[ScanError, ...]
    notes: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.errors


def _why(exc: Exception) -> str:
    """A short reason; API errors carry their HTTP code and Google's message, never credentials."""
    if isinstance(exc, gexc.GoogleAPICallError):
        code = getattr(exc, "code", None)
        return f"HTTP {int(code) if code is not None else '?'}: {exc.message}"[:300]
    if isinstance(exc, ValueError):  # the client's JSON decode errors are ValueErrors
        return f"invalid response: {type(exc).__name__}"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _acl_grants(target: ResourceRef, entries: Iterable[Mapping[str, Any]], shape: GrantShape,
                source: str) -> list[Grant]:
    grants = []
    for entry in entries:
        entity, role = entry.get("entity"), entry.get("role")
        if not isinstance(entity, str) or not isinstance(role, str):
            raise ValueError("ACL entry without entity or role")
        member = acl_entity_to_member(entity)
        grants.append(Grant(target, f"acl:{role.upper()}", member, shape, source=source))
    return grants


def _acl_reader(target: ResourceRef, acl: Any, shape: GrantShape, api: str,
                timeout: float) -> Callable[[], list[Grant]]:
    def read() -> list[Grant]:
        acl.reload(timeout=timeout)
        return _acl_grants(target, list(acl), shape, api)
    return read


def _iam_grants(target: ResourceRef, bindings: Iterable[Mapping[str, Any]]) -> list[Grant]:
    grants = []
    for binding in bindings:
        role = binding.get("role")
        members = binding.get("members") or ()
        if not isinstance(role, str):
            raise ValueError("IAM binding without role")
        raw = binding.get("condition")
        condition = None
        if isinstance(raw, Mapping) and raw.get("expression"):
            condition = Condition(str(raw["expression"]), str(raw.get("title") or ""),
                                  str(raw.get("description") or ""))
        for member in sorted(members):
            grants.append(Grant(target, role, str(member), "iam-policy", condition,
                                source="storage.buckets.getIamPolicy"))
    return grants


def read_gcr_bucket(name: str, *, client: storage.Client | None = None,
                    project: str | None = None, timeout: float = 60.0) -> GcsBucketScan:
    """Read one bucket (normally Container Registry's `artifacts.<project>.appspot.com`).

    Never raises for what the bucket or the API does: 404, 403 and bad responses become
    `ScanError`s naming the part not read, and fields not read stay UNKNOWN. `timeout` is per
    request (the client's own retry policy still applies on top)."""
    ref = ResourceRef("bucket", name)
    errors: list[ScanError] = []
    notes: list[str] = []

    def attempt(part: str, call: Callable[[], _T]) -> _T | None:
        try:
            return call()
        except Exception as exc:  # fail closed: any failure is recorded as "not read"
            errors.append(ScanError(SOURCE, f"bucket:{name}" + (f"/{part}" if part else ""), _why(exc)))
            return None

    if client is None:
        client = attempt("", lambda: storage.Client(project=project))
        if client is None:
            return GcsBucketScan(RegistryState(), tuple(errors))

    live = attempt("", lambda: client.get_bucket(name, timeout=timeout))
    if live is None and errors and "HTTP 404" in errors[-1].message:
        return GcsBucketScan(RegistryState(), tuple(errors))  # no bucket: nothing else to read

    uniform: bool | Unknown = UNKNOWN
    pap: str | Unknown = UNKNOWN
    if live is not None:
        cfg = live.iam_configuration
        uniform = bool(cfg.uniform_bucket_level_access_enabled)
        # "unspecified" is the older spelling of "inherited".
        raw_pap = cfg.public_access_prevention or "inherited"
        pap = "inherited" if raw_pap == "unspecified" else str(raw_pap)
    handle = live if live is not None else client.bucket(name)

    grants: list[Grant] = []
    complete: set[ResourceRef] = set()
    policy = attempt("iam", lambda: handle.get_iam_policy(requested_policy_version=3, timeout=timeout))
    if policy is not None:
        iam = attempt("iam", lambda: _iam_grants(ref, policy.bindings))
        if iam is not None:
            grants.extend(iam)
            complete.add(ref)

    if uniform is True:
        # Real GCS answers 400 to ACL reads here, and ACLs have no effect: not an error.
        notes.append(f"bucket:{name}: ACLs not applicable because uniform bucket-level access is on")
    else:
        acl_parts: tuple[tuple[str, Any, GrantShape, str], ...] = (
                ("acl", handle.acl, "bucket-acl", "storage.bucketAccessControls.list"),
                ("defaultObjectAcl", handle.default_object_acl, "default-object-acl",
                 "storage.defaultObjectAccessControls.list"))
        for part, acl, shape, api in acl_parts:
            got = attempt(part, _acl_reader(ref, acl, shape, api, timeout))
            if got is not None:
                grants.extend(got)

    buckets: tuple[Bucket, ...] = ()
    legacy: tuple[LegacyRegistry, ...] = ()
    gcr = container_registry_of_bucket(name)
    if live is not None or policy is not None:
        buckets = (Bucket(ref, uniform, pap, is_container_registry=gcr is not None,
                          source="storage.buckets.get"),)
        if gcr is not None:
            legacy = (LegacyRegistry(ResourceRef("container-registry", gcr.registry), name,
                                     source="storage.buckets.get"),)
    state = RegistryState(buckets=buckets, legacy_registries=legacy, grants=tuple(grants),
                          iam_complete_targets=frozenset(complete))
    return GcsBucketScan(state, tuple(errors), tuple(notes))


@dataclass(frozen=True)
class GcrBucketSource:
    """One bucket (normally Container Registry's) as a scan source."""

    bucket: str
    timeout: float = 60.0

    @property
    def key(self) -> str:
        return f"gcs:{self.bucket}"

    @property
    def description(self) -> str:
        return f"Container Registry bucket {self.bucket}"

    def read(self) -> SourceRead:
        work().found("buckets")
        result = read_gcr_bucket(self.bucket, timeout=self.timeout)
        work().done("buckets")
        # A bucket's read yields no images, so nothing it misses could later look deleted: no `unread`.
        return SourceRead(result.state, result.errors, frozenset(),
                          ReportTarget("gcr_buckets", self.bucket, listed=True))


__all__ = ["GcrBucketSource", "GcsBucketScan", "read_gcr_bucket"]
