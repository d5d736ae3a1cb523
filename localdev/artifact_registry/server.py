"""The fake's HTTP server: it routes the read calls the audit makes, pages their answers,
refuses every other method with 405, and records every request.

* ``GET /v1/projects/P/locations/L/repositories``                 ListRepositories
* ``GET /v1/projects/P/locations/L/repositories/R``               GetRepository
* ``GET /v1/projects/P/locations/L/repositories/R/dockerImages``  ListDockerImages
* ``GET /v1/projects/P/locations/L/repositories/R/attachments``   ListAttachments
* ``GET /v1/projects/P/locations/L/repositories/R:getIamPolicy``  GetIamPolicy
* ``GET /v1/projects/P/locations``                                 ListLocations (for ``--location all``)

(paths and methods as in the client's ``transports/rest_base.py``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from localdev.loopback import LoopbackServer

from .attachments import attachment_json, matches
from .estate import FakeEstate
from .paging import PageTokens, page_size
from .wire import JSON, REPOSITORY_NAME, ApiError, docker_image_json, error_body, policy_for_version, with_int_enums

_ROUTE_LIST_REPOS = re.compile(r"/v1/(projects/[^/:]+/locations/[^/:]+)/repositories")
_ROUTE_GET_REPO = re.compile(rf"/v1/({REPOSITORY_NAME})")
_ROUTE_LIST_IMAGES = re.compile(rf"/v1/({REPOSITORY_NAME})/dockerImages")
_ROUTE_LIST_ATTACHMENTS = re.compile(rf"/v1/({REPOSITORY_NAME})/attachments")
_ROUTE_GET_IAM = re.compile(rf"/v1/({REPOSITORY_NAME}):getIamPolicy")
_ROUTE_LIST_LOCATIONS = re.compile(r"/v1/(projects/[^/:]+)/locations")
_READ_ROUTES = (_ROUTE_LIST_REPOS, _ROUTE_GET_REPO, _ROUTE_LIST_IMAGES, _ROUTE_LIST_ATTACHMENTS, _ROUTE_GET_IAM,
                _ROUTE_LIST_LOCATIONS)
# ListLocations answers every location Artifact Registry serves, whether or not a project has repositories
# there; these are some of Google's, plus any the estate uses.
_LOCATIONS = ("asia", "asia-east1", "europe", "europe-west1", "europe-west4", "us", "us-central1", "us-east1")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # URL-decoded path, without the query
    query: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def param(self, key: str) -> str | None:
        values = self.query.get(key)
        return values[0] if values else None


class ArtifactRegistryFake:
    """The HTTP server, on 127.0.0.1 and a free port, in a background thread.

    Use as a context manager; `endpoint` is what the client's `api_endpoint` should be.
    """

    def __init__(self, estate: FakeEstate | None = None) -> None:
        self.estate = estate if estate is not None else FakeEstate()
        self._requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()
        self._page_tokens = PageTokens()
        self._server: LoopbackServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ArtifactRegistryFake:
        if self._server is not None:
            return self
        self._server = LoopbackServer(_make_handler(self), "ar-fake")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

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
        return self._server.port

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

    # -- the API -----------------------------------------------------------------------------

    def handle_get(self, request: RecordedRequest) -> JSON:
        """Answer one GET; raises ApiError for API errors."""
        path = request.path
        estate = self.estate
        if m := _ROUTE_LIST_REPOS.fullmatch(path):
            parent = m.group(1)
            self._check(parent, "artifactregistry.repositories.list")
            size = page_size(request.param("pageSize"))
            collection = parent + "/repositories"
            offset = self._page_tokens.offset(collection, request.param("pageToken"))
            names = estate.repository_names(parent)
            page = []
            for name in names[offset : offset + size]:
                try:
                    page.append(self._repository_json(estate.repository(name), request))
                except KeyError:
                    continue  # removed since it was listed
            body: JSON = {"repositories": page} if page else {}
            if offset + size < len(names):
                body["nextPageToken"] = self._page_tokens.token(collection, offset + size)
            return body
        if m := _ROUTE_LIST_IMAGES.fullmatch(path):
            repo = m.group(1)
            self._check(repo, "artifactregistry.dockerimages.list")
            size = page_size(request.param("pageSize"))
            collection = repo + "/dockerImages"
            offset = self._page_tokens.offset(collection, request.param("pageToken"))
            try:
                images = estate.images(repo)
            except KeyError:
                raise ApiError(404, f"Repository {repo} not found.") from None
            total = len(images)
            # Render only this page: the estate's sequences are never copied whole.
            rendered = [docker_image_json(images[i], repo) for i in range(offset, min(offset + size, total))]
            body = {"dockerImages": rendered} if rendered else {}
            if offset + size < total:
                body["nextPageToken"] = self._page_tokens.token(collection, offset + size)
            return body
        if m := _ROUTE_LIST_ATTACHMENTS.fullmatch(path):
            repo = m.group(1)
            self._check(repo, "artifactregistry.attachments.list")
            size = page_size(request.param("pageSize"))
            filter_text = request.param("filter")
            collection = f"{repo}/attachments?{filter_text or ''}"  # a token pages one filter's results
            offset = self._page_tokens.offset(collection, request.param("pageToken"))
            try:
                stored = estate.attachments(repo)
            except KeyError:
                raise ApiError(404, f"Repository {repo} not found.") from None
            listed = [b for b in (attachment_json(a, repo) for a in stored) if matches(b, filter_text)]
            body = {"attachments": listed[offset:offset + size]} if listed[offset:offset + size] else {}
            if offset + size < len(listed):
                body["nextPageToken"] = self._page_tokens.token(collection, offset + size)
            return body
        if m := _ROUTE_GET_IAM.fullmatch(path):
            repo = m.group(1)
            self._check(repo, "artifactregistry.repositories.getIamPolicy")
            raw = request.param("options.requestedPolicyVersion") or "0"
            if raw not in ("0", "1", "3"):
                raise ApiError(400, f"Invalid requested policy version: {raw}. Valid values are 0, 1 and 3.")
            try:
                policy = estate.iam_policy(repo)
            except KeyError:
                raise ApiError(404, f"Repository {repo} not found.") from None
            if policy is None:
                return {"etag": "ACAB"}  # an empty policy still has an etag
            return policy_for_version(policy, int(raw))
        if m := _ROUTE_LIST_LOCATIONS.fullmatch(path):
            project = m.group(1)
            self._check(project, "artifactregistry.locations.list")
            ids = sorted(set(_LOCATIONS) | estate.locations_used(project))
            offset = self._page_tokens.offset(project + "/locations", request.param("pageToken"))
            size = page_size(request.param("pageSize"))
            body = {"locations": [{"name": f"{project}/locations/{i}", "locationId": i}
                                  for i in ids[offset:offset + size]]}
            if offset + size < len(ids):
                body["nextPageToken"] = self._page_tokens.token(project + "/locations", offset + size)
            return body
        if m := _ROUTE_GET_REPO.fullmatch(path):
            repo = m.group(1)
            self._check(repo, "artifactregistry.repositories.get")
            try:
                return self._repository_json(estate.repository(repo), request)
            except KeyError:
                raise ApiError(404, f"Repository {repo} not found.") from None
        raise ApiError(404, f"Method not found: GET {path}")

    def _check(self, resource: str, permission: str) -> None:
        if self.estate.is_denied(resource, permission):
            raise ApiError(
                403, f"Permission '{permission}' denied on resource '{resource}' (or it may not exist)."
            )

    @staticmethod
    def _repository_json(body: JSON, request: RecordedRequest) -> JSON:
        alt = request.param("$alt") or ""
        return with_int_enums(body) if "enum-encoding=int" in alt else body


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
            except ApiError as err:
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
    """Requests that were not GETs of the read calls: what a read-only test asserts is empty."""
    for request in requests:
        if request.method != "GET" or not any(route.fullmatch(request.path) for route in _READ_ROUTES):
            yield request
