"""A local, read-only fake of the Artifact Registry v1 REST API.

No Artifact Registry emulator exists, so tests and benchmarks drive the real
`google-cloud-artifact-registry` client (``transport="rest"``) against this stdlib server on
127.0.0.1. It serves the documented JSON shapes (camelCase, Duration as ``"86400s"``, int64 as
strings, Google's ``{"error": {...}}`` envelope) for the four calls the audit makes:

* ``GET /v1/projects/P/locations/L/repositories``                 ListRepositories
* ``GET /v1/projects/P/locations/L/repositories/R``               GetRepository
* ``GET /v1/projects/P/locations/L/repositories/R/dockerImages``  ListDockerImages
* ``GET /v1/projects/P/locations/L/repositories/R:getIamPolicy``  GetIamPolicy

(paths and methods as in the client's ``transports/rest_base.py``). Every other method is
refused with 405, and every request is recorded so a test can prove the audit stayed read-only.
It answers only as the real API would: to inject faults (429/500/503, malformed JSON, latency,
resets), put `localdev.fault_proxy.FaultProxy` in front of it and point the client at the proxy.
Images are served one page at a time from whatever Sequence holds them; `SyntheticImages`
computes them from their index, so 100k images cost no memory.

Usage::

    estate = FakeEstate()
    repo = estate.add_repository("p", "us-central1", "models", immutable_tags=True)
    estate.add_images(repo, SyntheticImages(10_000))
    with ArtifactRegistryFake(estate) as fake:
        scan_artifact_registry("p", "us-central1", endpoint=fake.endpoint)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, overload
from urllib.parse import parse_qs, quote, unquote, urlsplit

JSON = dict[str, Any]

# ListRepositories / ListDockerImages: "Maximum page size is 1,000". The default is not
# documented; 100 is our choice, and oversize requests are coerced to the maximum (AIP-158).
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# Enum fields of Repository and the ints the client asks for with `$alt=json;enum-encoding=int`
# (values from google/cloud/artifactregistry_v1/types/repository.py).
_FORMAT = {
    "FORMAT_UNSPECIFIED": 0,
    "DOCKER": 1,
    "MAVEN": 2,
    "NPM": 3,
    "APT": 5,
    "YUM": 6,
    "PYTHON": 8,
    "KFP": 9,
    "GO": 10,
    "GENERIC": 11,
    "RUBY": 12,
}
_MODE = {"MODE_UNSPECIFIED": 0, "STANDARD_REPOSITORY": 1, "VIRTUAL_REPOSITORY": 2, "REMOTE_REPOSITORY": 3}
_ACTION = {"ACTION_UNSPECIFIED": 0, "DELETE": 1, "KEEP": 2}
_TAG_STATE = {"TAG_STATE_UNSPECIFIED": 0, "TAGGED": 1, "UNTAGGED": 2, "ANY": 3}
_ENABLEMENT_CONFIG = {"ENABLEMENT_CONFIG_UNSPECIFIED": 0, "INHERITED": 1, "DISABLED": 2}
_ENABLEMENT_STATE = {
    "ENABLEMENT_STATE_UNSPECIFIED": 0,
    "SCANNING_UNSUPPORTED": 1,
    "SCANNING_DISABLED": 2,
    "SCANNING_ACTIVE": 3,
}

_REPO_NAME = r"projects/[^/:]+/locations/[^/:]+/repositories/[^/:]+"
_ROUTE_LIST_REPOS = re.compile(r"/v1/(projects/[^/:]+/locations/[^/:]+)/repositories")
_ROUTE_GET_REPO = re.compile(rf"/v1/({_REPO_NAME})")
_ROUTE_LIST_IMAGES = re.compile(rf"/v1/({_REPO_NAME})/dockerImages")
_ROUTE_GET_IAM = re.compile(rf"/v1/({_REPO_NAME}):getIamPolicy")


# --------------------------------------------------------------------------------------------
# Estate: what the fake serves
# --------------------------------------------------------------------------------------------


def duration(seconds: float | str) -> str:
    """A google.protobuf.Duration in its JSON spelling ("86400s")."""
    if isinstance(seconds, str):
        return seconds
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{seconds:.9f}".rstrip("0") + "s"


def cleanup_policy(
    policy_id: str,
    action: str,
    *,
    tag_state: str | None = None,
    tag_prefixes: Sequence[str] = (),
    version_name_prefixes: Sequence[str] = (),
    package_name_prefixes: Sequence[str] = (),
    older_than: float | str | None = None,
    newer_than: float | str | None = None,
    keep_count: int | None = None,
    most_recent_package_prefixes: Sequence[str] = (),
) -> JSON:
    """A CleanupPolicy as the API returns it. `keep_count` makes it a mostRecentVersions policy."""
    policy: JSON = {"id": policy_id, "action": action}
    if keep_count is not None or most_recent_package_prefixes:
        recent: JSON = {}
        if most_recent_package_prefixes:
            recent["packageNamePrefixes"] = list(most_recent_package_prefixes)
        if keep_count is not None:
            recent["keepCount"] = keep_count
        policy["mostRecentVersions"] = recent
        return policy
    condition: JSON = {}
    if tag_state is not None:
        condition["tagState"] = tag_state
    if tag_prefixes:
        condition["tagPrefixes"] = list(tag_prefixes)
    if version_name_prefixes:
        condition["versionNamePrefixes"] = list(version_name_prefixes)
    if package_name_prefixes:
        condition["packageNamePrefixes"] = list(package_name_prefixes)
    if older_than is not None:
        condition["olderThan"] = duration(older_than)
    if newer_than is not None:
        condition["newerThan"] = duration(newer_than)
    policy["condition"] = condition
    return policy


def binding(
    role: str,
    members: Sequence[str],
    *,
    condition_expression: str | None = None,
    condition_title: str = "",
    condition_description: str = "",
) -> JSON:
    """An IAM Binding as the API returns it."""
    result: JSON = {"role": role, "members": list(members)}
    if condition_expression is not None:
        expr: JSON = {"expression": condition_expression}
        if condition_title:
            expr["title"] = condition_title
        if condition_description:
            expr["description"] = condition_description
        result["condition"] = expr
    return result


@dataclass(frozen=True, slots=True)
class FakeDockerImage:
    """One DockerImage (a manifest digest and its tags) inside a repository."""

    package: str  # e.g. "models/llm"; URL-escaped in the resource name like the real API
    digest: str  # "sha256:<64 hex>"
    tags: tuple[str, ...] = ()
    image_size_bytes: int = 0
    upload_time: str = "2024-01-01T00:00:00Z"
    media_type: str = "application/vnd.docker.distribution.manifest.v2+json"
    build_time: str | None = None
    update_time: str | None = None

    def to_json(self, repository: str) -> JSON:
        _, project, _, location, _, repo_id = repository.split("/")
        body: JSON = {
            "name": f"{repository}/dockerImages/{quote(self.package, safe='')}@{self.digest}",
            "uri": f"{location}-docker.pkg.dev/{project}/{repo_id}/{self.package}@{self.digest}",
            "tags": list(self.tags),
            "imageSizeBytes": str(self.image_size_bytes),  # int64 travels as a string in JSON
            "uploadTime": self.upload_time,
            "mediaType": self.media_type,
            "updateTime": self.update_time or self.upload_time,
        }
        if self.build_time is not None:
            body["buildTime"] = self.build_time
        if not self.tags:
            del body["tags"]  # proto3 JSON omits empty repeated fields
        return body


def fake_digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


class SyntheticImages(Sequence[FakeDockerImage]):
    """`count` images computed from their index, so 100k images cost no memory.

    Image i belongs to package `f"{package_prefix}{i % packages}"`, has tag `v{i}` (plus
    `latest` on the last one), a distinct digest, and was uploaded `i` seconds after `base_time`.
    """

    def __init__(
        self,
        count: int,
        *,
        packages: int = 10,
        package_prefix: str = "models/model-",
        seed: str = "img",
        base_epoch: int = 1_700_000_000,
    ) -> None:
        if count < 0 or packages < 1:
            raise ValueError("count must be >= 0 and packages >= 1")
        self._count = count
        self._packages = packages
        self._prefix = package_prefix
        self._seed = seed
        self._base = base_epoch

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> FakeDockerImage: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[FakeDockerImage]: ...
    def __getitem__(self, index: int | slice) -> FakeDockerImage | Sequence[FakeDockerImage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        tags = (f"v{index}", "latest") if index == self._count - 1 else (f"v{index}",)
        uploaded = datetime.fromtimestamp(self._base + index, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return FakeDockerImage(
            package=f"{self._prefix}{index % self._packages}",
            digest=fake_digest(f"{self._seed}:{index}"),
            tags=tags,
            image_size_bytes=1_000_000 + index,
            upload_time=uploaded,
        )


class _Chain(Sequence[FakeDockerImage]):
    """Several image sequences seen as one, without copying them."""

    def __init__(self) -> None:
        self._parts: list[Sequence[FakeDockerImage]] = []
        self._ends: list[int] = []

    def append(self, part: Sequence[FakeDockerImage]) -> None:
        self._parts.append(part)
        self._ends.append((self._ends[-1] if self._ends else 0) + len(part))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    @overload
    def __getitem__(self, index: int) -> FakeDockerImage: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[FakeDockerImage]: ...
    def __getitem__(self, index: int | slice) -> FakeDockerImage | Sequence[FakeDockerImage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        part = bisect_right(self._ends, index)
        if part >= len(self._parts):
            raise IndexError(index)
        start = self._ends[part - 1] if part else 0
        return self._parts[part][index - start]


class FakeEstate:
    """The in-memory projects/locations/repositories, images and IAM policies the fake serves.

    Safe to change while the server runs (a lock guards it), e.g. to add a repository mid-test.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._repositories: dict[str, JSON] = {}
        self._images: dict[str, _Chain] = {}
        self._policies: dict[str, JSON] = {}
        self._denied: dict[str, frozenset[str] | None] = {}

    # -- building ----------------------------------------------------------------------------

    def add_repository(
        self,
        project: str,
        location: str,
        repository_id: str,
        *,
        format: str = "DOCKER",
        mode: str = "STANDARD_REPOSITORY",
        description: str = "",
        labels: Mapping[str, str] | None = None,
        immutable_tags: bool | None = None,
        cleanup_policies: Iterable[JSON] = (),
        cleanup_policy_dry_run: bool = False,
        scanning: str | None = None,
        scanning_state: str | None = None,
        scanning_state_reason: str = "",
        kms_key_name: str = "",
        size_bytes: int = 0,
        create_time: str = "2024-01-01T00:00:00.000000Z",
        update_time: str = "2024-06-01T00:00:00.000000Z",
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Add a Repository and return its full name. Omitted settings are omitted from the JSON,
        as the real API does for defaults (e.g. no `dockerConfig` when tags are mutable)."""
        name = f"projects/{project}/locations/{location}/repositories/{repository_id}"
        body: JSON = {
            "name": name,
            "format": format,
            "mode": mode,
            "createTime": create_time,
            "updateTime": update_time,
        }
        if description:
            body["description"] = description
        if labels:
            body["labels"] = dict(labels)
        if immutable_tags is not None:
            body["dockerConfig"] = {"immutableTags": True} if immutable_tags else {}
        policies = {p["id"]: p for p in cleanup_policies}
        if policies:
            body["cleanupPolicies"] = policies  # a map keyed by policy id, not a list
        if cleanup_policy_dry_run:
            body["cleanupPolicyDryRun"] = True
        if scanning is not None or scanning_state is not None:
            state = scanning_state or ("SCANNING_DISABLED" if scanning == "DISABLED" else "SCANNING_ACTIVE")
            scan: JSON = {"enablementState": state}
            if scanning is not None:
                scan["enablementConfig"] = scanning
            if scanning_state_reason:
                scan["enablementStateReason"] = scanning_state_reason
            body["vulnerabilityScanningConfig"] = scan
        if kms_key_name:
            body["kmsKeyName"] = kms_key_name
        if size_bytes:
            body["sizeBytes"] = str(size_bytes)
        body["registryUri"] = f"{location}-docker.pkg.dev/{project}/{repository_id}"
        if extra:
            body.update(extra)
        return self.add_repository_json(body)

    def add_repository_json(self, body: Mapping[str, Any]) -> str:
        """Add a Repository given as raw API JSON (for shapes `add_repository` does not build)."""
        name = str(body["name"])
        if not re.fullmatch(_REPO_NAME, name):
            raise ValueError(f"not a repository name: {name}")
        with self._lock:
            self._repositories[name] = json.loads(json.dumps(body))  # own a deep copy
            self._images.setdefault(name, _Chain())
        return name

    def add_images(self, repository: str, images: Sequence[FakeDockerImage]) -> None:
        """Append images (any Sequence, e.g. `SyntheticImages(100_000)`, is kept by reference)."""
        with self._lock:
            if repository not in self._repositories:
                raise KeyError(repository)
            self._images[repository].append(images)

    def set_iam_policy(
        self,
        repository: str,
        bindings: Iterable[JSON],
        *,
        version: int | None = None,
        etag: bytes | None = None,
    ) -> None:
        bindings = [json.loads(json.dumps(b)) for b in bindings]
        conditional = any("condition" in b for b in bindings)
        tag = (
            etag
            if etag is not None
            else b"\x00" + hashlib.sha256(json.dumps(bindings, sort_keys=True).encode()).digest()[:7]
        )
        policy: JSON = {
            "version": version if version is not None else (3 if conditional else 1),
            "etag": base64.b64encode(tag).decode(),
            "bindings": bindings,
        }
        with self._lock:
            if repository not in self._repositories:
                raise KeyError(repository)
            self._policies[repository] = policy

    def deny(self, resource: str, permissions: Iterable[str] | None = None) -> None:
        """Answer 403 for `resource` (and what is under it): for all calls, or only for the given
        IAM permissions, e.g. {"artifactregistry.repositories.getIamPolicy"}."""
        with self._lock:
            self._denied[resource] = frozenset(permissions) if permissions is not None else None

    def remove_repository(self, repository: str) -> None:
        with self._lock:
            self._repositories.pop(repository, None)
            self._images.pop(repository, None)
            self._policies.pop(repository, None)

    # -- reading (used by the handler) -------------------------------------------------------

    def _is_denied(self, resource: str, permission: str) -> bool:
        for denied, perms in self._denied.items():
            if (resource == denied or resource.startswith(denied + "/")) and (
                perms is None or permission in perms
            ):
                return True
        return False

    def image_count(self, repository: str) -> int:
        with self._lock:
            return len(self._images.get(repository, ()))


# --------------------------------------------------------------------------------------------
# Requests and errors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # URL-decoded path, without the query
    query: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def param(self, key: str) -> str | None:
        values = self.query.get(key)
        return values[0] if values else None


class _ApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def error_body(code: int, message: str) -> bytes:
    """Google's JSON error envelope, which google.api_core turns into the right exception."""
    status = _STATUS_NAMES.get(code, HTTPStatus(code).phrase.upper().replace(" ", "_"))
    return json.dumps({"error": {"code": code, "message": message, "status": status}}).encode()


# --------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------


class ArtifactRegistryFake:
    """The HTTP server, on 127.0.0.1 and a free port, in a background thread.

    Use as a context manager; `endpoint` is what the client's `api_endpoint` should be.
    """

    def __init__(self, estate: FakeEstate | None = None) -> None:
        self.estate = estate if estate is not None else FakeEstate()
        self._requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()
        self._token_key = secrets.token_bytes(16)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ArtifactRegistryFake:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="ar-fake", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> ArtifactRegistryFake:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("fake is not running")
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- recording ---------------------------------------------------------------------------

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        with self._requests_lock:
            return tuple(self._requests)

    def clear_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._requests_lock:
            self._requests.append(request)

    # -- page tokens: opaque, signed, bound to the collection they page ----------------------

    def _page_token(self, collection: str, offset: int) -> str:
        payload = f"{collection}\n{offset}".encode()
        sig = hmac.new(self._token_key, payload, hashlib.sha256).digest()[:8]
        return base64.urlsafe_b64encode(sig + payload).decode().rstrip("=")

    def _page_offset(self, collection: str, token: str | None) -> int:
        if not token:
            return 0
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            sig, payload = raw[:8], raw[8:]
            if not hmac.compare_digest(sig, hmac.new(self._token_key, payload, hashlib.sha256).digest()[:8]):
                raise ValueError("signature")
            owner, offset = payload.decode().split("\n")
            if owner != collection:
                raise ValueError("collection")
            return int(offset)
        except ValueError:
            raise _ApiError(400, "The page token is invalid.") from None

    # -- the API -----------------------------------------------------------------------------

    def _page_size(self, request: RecordedRequest) -> int:
        raw = request.param("pageSize")
        if raw is None:
            return DEFAULT_PAGE_SIZE
        try:
            size = int(raw)
        except ValueError:
            raise _ApiError(400, f"Invalid value for pageSize: {raw}") from None
        if size < 0:
            raise _ApiError(400, "pageSize must not be negative.")
        return min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)

    def handle_get(self, request: RecordedRequest) -> JSON:
        """Answer one GET; raises _ApiError for API errors."""
        path = request.path
        estate = self.estate
        if m := _ROUTE_LIST_REPOS.fullmatch(path):
            parent = m.group(1)
            self._check(parent, "artifactregistry.repositories.list")
            size = self._page_size(request)
            offset = self._page_offset(parent + "/repositories", request.param("pageToken"))
            with estate._lock:
                names = sorted(n for n in estate._repositories if n.startswith(parent + "/repositories/"))
                page = [
                    self._repository_json(estate._repositories[n], request)
                    for n in names[offset : offset + size]
                ]
            body: JSON = {"repositories": page} if page else {}
            if offset + size < len(names):
                body["nextPageToken"] = self._page_token(parent + "/repositories", offset + size)
            return body
        if m := _ROUTE_LIST_IMAGES.fullmatch(path):
            repo = m.group(1)
            self._check(repo, "artifactregistry.dockerimages.list")
            size = self._page_size(request)
            offset = self._page_offset(repo + "/dockerImages", request.param("pageToken"))
            with estate._lock:
                if repo not in estate._repositories:
                    raise _ApiError(404, f"Repository {repo} not found.")
                images = estate._images[repo]
                total = len(images)
            # Render only this page: the estate's sequences are never copied whole.
            rendered = [images[i].to_json(repo) for i in range(offset, min(offset + size, total))]
            body = {"dockerImages": rendered} if rendered else {}
            if offset + size < total:
                body["nextPageToken"] = self._page_token(repo + "/dockerImages", offset + size)
            return body
        if m := _ROUTE_GET_IAM.fullmatch(path):
            repo = m.group(1)
            self._check(repo, "artifactregistry.repositories.getIamPolicy")
            raw = request.param("options.requestedPolicyVersion") or "0"
            if raw not in ("0", "1", "3"):
                raise _ApiError(400, f"Invalid requested policy version: {raw}. Valid values are 0, 1 and 3.")
            with estate._lock:
                if repo not in estate._repositories:
                    raise _ApiError(404, f"Repository {repo} not found.")
                policy = estate._policies.get(repo)
                policy = json.loads(json.dumps(policy)) if policy is not None else None
            if policy is None:
                return {"etag": "ACAB"}  # an empty policy still has an etag
            return _policy_for_version(policy, int(raw))
        if m := _ROUTE_GET_REPO.fullmatch(path):
            repo = m.group(1)
            self._check(repo, "artifactregistry.repositories.get")
            with estate._lock:
                found = estate._repositories.get(repo)
                if found is None:
                    raise _ApiError(404, f"Repository {repo} not found.")
                return self._repository_json(found, request)
        raise _ApiError(404, f"Method not found: GET {path}")

    def _check(self, resource: str, permission: str) -> None:
        with self.estate._lock:
            denied = self.estate._is_denied(resource, permission)
        if denied:
            raise _ApiError(
                403, f"Permission '{permission}' denied on resource '{resource}' (or it may not exist)."
            )

    @staticmethod
    def _repository_json(body: JSON, request: RecordedRequest) -> JSON:
        alt = request.param("$alt") or ""
        return _int_enums(body) if "enum-encoding=int" in alt else json.loads(json.dumps(body))


def _policy_for_version(policy: JSON, requested: int) -> JSON:
    """IAM's versioning: conditional bindings need version 3; older callers get the role
    suffixed with `_withcond_<hash>` and no condition, so they cannot mistake it for unconditional."""
    bindings = policy.get("bindings", [])
    if requested >= 3 or not any("condition" in b for b in bindings):
        if requested < 3:
            policy["version"] = 1
        if not bindings:
            policy.pop("bindings", None)
        return policy
    downgraded = []
    for b in bindings:
        if "condition" in b:
            digest = hashlib.sha256(json.dumps(b["condition"], sort_keys=True).encode()).hexdigest()[:20]
            b = {"role": f"{b['role']}_withcond_{digest}", "members": b["members"]}
        downgraded.append(b)
    return {"version": 1, "etag": policy["etag"], "bindings": downgraded}


def _int_enums(body: JSON) -> JSON:
    out: JSON = json.loads(json.dumps(body))
    for key, table in (("format", _FORMAT), ("mode", _MODE)):
        if isinstance(out.get(key), str):
            out[key] = table.get(out[key], 0)
    for policy in out.get("cleanupPolicies", {}).values():
        if isinstance(policy.get("action"), str):
            policy["action"] = _ACTION.get(policy["action"], 0)
        cond = policy.get("condition")
        if cond and isinstance(cond.get("tagState"), str):
            cond["tagState"] = _TAG_STATE.get(cond["tagState"], 0)
    scan = out.get("vulnerabilityScanningConfig")
    if scan:
        if isinstance(scan.get("enablementConfig"), str):
            scan["enablementConfig"] = _ENABLEMENT_CONFIG.get(scan["enablementConfig"], 0)
        if isinstance(scan.get("enablementState"), str):
            scan["enablementState"] = _ENABLEMENT_STATE.get(scan["enablementState"], 0)
    return out


def _make_handler(fake: ArtifactRegistryFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the client's requests.Session reuses connections
        server_version = "ArtifactRegistryFake/1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet; requests are recorded
            pass

        def _recorded(self) -> RecordedRequest:
            split = urlsplit(self.path)
            query = {k: tuple(v) for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            request = RecordedRequest(self.command, unquote(split.path), query)
            fake._record(request)
            return request

        def _send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:
            request = self._recorded()
            try:
                payload = fake.handle_get(request)
            except _ApiError as err:
                self._send(err.code, error_body(err.code, err.message))
                return
            self._send(200, json.dumps(payload, separators=(",", ":")).encode())

        def _refuse(self) -> None:
            self._recorded()
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)  # drain, so keep-alive stays in sync
            self._send(
                405,
                error_body(405, f"The fake Artifact Registry is read-only: {self.command} refused."),
                {"Allow": "GET"},
            )

        do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _refuse

    return Handler


def iter_read_only_violations(requests: Iterable[RecordedRequest]) -> Iterator[RecordedRequest]:
    """Requests that were not GETs of the four read calls: what a read-only test asserts is empty."""
    for request in requests:
        if request.method != "GET" or not any(
            route.fullmatch(request.path)
            for route in (_ROUTE_LIST_REPOS, _ROUTE_GET_REPO, _ROUTE_LIST_IMAGES, _ROUTE_GET_IAM)
        ):
            yield request
