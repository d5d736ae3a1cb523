"""The stand-ins' HTTP server: one per API (as each has its own host), on 127.0.0.1 and a free port.

Each API says which (method, path) pairs are its read calls; the server answers those, refuses every other
request with 405 (the audit must stay read-only: a `getIamPolicy` is a POST on Resource Manager and IAM, a
`setIamPolicy` never passes), and records every request so a test can prove what went over the wire.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from localdev.artifact_registry.paging import PageTokens
from localdev.artifact_registry.wire import JSON, ApiError, error_body
from localdev.loopback import LoopbackServer

from .estate import IamEstate


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # URL-decoded, without the query
    query: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    body: JSON = field(default_factory=dict)

    def param(self, key: str) -> str | None:
        values = self.query.get(key)
        return values[0] if values else None

    def params(self, key: str) -> tuple[str, ...]:
        return self.query.get(key, ())


Handler = Callable[[re.Match[str], Request], JSON]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def page_size(raw: str | None, default: int, maximum: int, *, coerce: bool = True) -> int:
    """A list call's page size: the API's default for none or 0, capped at its maximum (or 400 beyond it when
    the API refuses rather than caps)."""
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid value for pageSize: {raw}") from None
    if size < 0:
        raise ApiError(400, "pageSize must not be negative.")
    if size > maximum and not coerce:
        raise ApiError(400, f"pageSize must be at most {maximum}.")
    return min(size or default, maximum)


class GoogleApiFake:
    """The base of each stand-in: routing, paging tokens, 403s from the estate, recording, lifecycle."""

    name = "google-api-fake"

    def __init__(self, estate: IamEstate | None = None) -> None:
        self.estate = estate if estate is not None else IamEstate()
        self.page_tokens = PageTokens()
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def check(self, resource: str, permission: str, message: str | None = None) -> None:
        """403 as the API answers it when the caller lacks `permission` on `resource`."""
        if self.estate.is_denied(resource, permission):
            raise ApiError(403, message or f"Permission '{permission}' denied on resource '{resource}' "
                                           "(or it may not exist).")

    def page(self, collection: str, items: list[JSON], request: Request, key: str, default: int,
             maximum: int) -> JSON:
        size = page_size(request.param("pageSize"), default, maximum)
        offset = self.page_tokens.offset(collection, request.param("pageToken"))
        body: JSON = {key: items[offset:offset + size]} if items[offset:offset + size] else {}
        if offset + size < len(items):
            body["nextPageToken"] = self.page_tokens.token(collection, offset + size)
        return body

    # -- serving -----------------------------------------------------------------------------

    def answer(self, request: Request) -> JSON:
        for route in self.routes():
            match = route.pattern.fullmatch(request.path)
            if match and route.method == request.method:
                return route.handler(match, request)
        raise ApiError(405 if request.method != "GET" else 404,
                       f"{self.name} is read-only: {request.method} {request.path} refused"
                       if request.method != "GET" else f"Method not found: GET {request.path}")

    def is_read(self, request: Request) -> bool:
        return any(r.method == request.method and r.pattern.fullmatch(request.path) for r in self.routes())

    @property
    def requests(self) -> tuple[Request, ...]:
        with self._lock:
            return tuple(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)

    def start(self) -> GoogleApiFake:
        if self._server is not None:
            return self
        self._server = LoopbackServer(_handler(self), self.name)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> GoogleApiFake:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("not running")
        return f"http://127.0.0.1:{self._server.port}"


def _handler(fake: GoogleApiFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"{fake.name}/1"
        # Keep-alive with small answers: without TCP_NODELAY each one can wait out the peer's delayed ACK
        # (tens of milliseconds), which would make a loopback stand-in look like a slow API.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _serve(self) -> None:
            split = urlsplit(self.path)
            query = {k: tuple(v) for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                body = None
            request = Request(self.command, unquote(split.path), query, body if isinstance(body, dict) else {})
            fake._record(request)
            try:
                if body is None or not isinstance(body, dict):
                    raise ApiError(400, "Invalid JSON payload received.")
                payload = fake.answer(request)
            except ApiError as err:
                self._send(err.code, error_body(err.code, err.message))
                return
            self._send(200, json.dumps(payload, separators=(",", ":")).encode())

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    return Handler


def read_only_violations(fakes: Iterable[GoogleApiFake]) -> Iterator[Request]:
    """Every request any of `fakes` saw that was not one of its read calls."""
    for fake in fakes:
        for request in fake.requests:
            if not fake.is_read(request):
                yield request
