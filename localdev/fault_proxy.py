"""A loopback HTTP/1.1 proxy that injects faults per a scripted plan and records every request.

Put it between the audit and any local component (docker-registry, the Artifact Registry
stand-in, the GCS emulator): point the audit at `proxy.url` instead of the component's URL.

Why a real proxy and not a mocked transport: the audit's own HTTP stacks (aiohttp for OCI,
requests under google-api-core for Artifact Registry and GCS) must meet real sockets that
reset, stall and lie, and the only honest way to prove "read-only" is to look at what came
over the wire. Standard library only, threaded, keep-alive.

    with FaultProxy(registry.url) as proxy:
        proxy.plan = [Rule(status(503), path="/tags/list", times=2)]   # transient
        proxy.plan = [Rule(reset_mid_body(), path="/_catalog")]        # persistent (times=None)
        ... scan proxy.url ...
        proxy.requests  # every request: method, path, headers, time, fault applied

A rule matches on method and a regular expression searched in the path (with query); `times`
is how many matching requests get the fault (None: all of them, a persistent fault), counted
over all matches or, with `per_url=True`, separately for each distinct method + path.
The first matching rule with faults left wins; requests no rule claims are forwarded unchanged.
A `hook(method, path, headers)` runs before the plan and may answer instead (e.g. a stub that
demands a bearer token): it returns (status, headers, body) or None to carry on.

In front of a Google API stand-in, answer with `google_error(code)`: Google's JSON error envelope,
which google.api_core turns into the exception that matches the code; `Recorded.param` reads a
request's query (e.g. whether it carried a `pageToken`).
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localdev.artifact_registry import error_body
from localdev.loopback import LoopbackServer

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
                         "upgrade", "content-length"})


@dataclass(frozen=True)
class Fault:
    """What to do instead of (or to) the upstream's answer. Build with the helpers below."""

    kind: str
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    seconds: float = 0.0
    content_type: str | None = None


def status(code: int, *, retry_after: str | int | None = None, body: bytes | None = None,
           content_type: str = "application/json") -> Fault:
    """Answer `code` (e.g. 429, 500, 503) without asking the upstream; optional Retry-After."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if body is None:
        body = (b'{"errors":[{"code":"UNAVAILABLE","message":"injected"}],'
                b'"error":{"code":%d,"message":"injected fault","status":"UNAVAILABLE"}}' % code)
    return Fault("status", status=code, headers=headers, body=body, content_type=content_type)


def google_error(code: int, message: str | None = None, *, retry_after: str | int | None = None) -> Fault:
    """Answer `code` without asking the upstream, with the body a Google JSON API sends for it:
    `{"error": {"code", "message", "status"}}`, the status name being the one that goes with the code."""
    text = message if message is not None else f"Injected fault {code}."
    return status(code, retry_after=retry_after, body=error_body(code, text),
                  content_type="application/json; charset=UTF-8")


def reset() -> Fault:
    """Close the connection with a TCP RST before any byte of the response."""
    return Fault("reset")


def reset_mid_body() -> Fault:
    """Forward, send the headers (full Content-Length) and half the body, then reset the connection."""
    return Fault("reset_mid_body")


def stall(seconds: float = 30.0) -> Fault:
    """Say nothing for `seconds` (past the client's timeout), then close."""
    return Fault("stall", seconds=seconds)


def latency(seconds: float) -> Fault:
    """Forward normally after `seconds` (latency injection, e.g. for benchmarks)."""
    return Fault("latency", seconds=seconds)


def truncated_json() -> Fault:
    """Forward, then answer a well-formed HTTP response whose body is the first half of the real one."""
    return Fault("truncate")


def replace_body(body: bytes, content_type: str | None = "application/json", code: int = 200,
                 headers: Mapping[str, str] | None = None) -> Fault:
    """Answer `body` with `code` (and Content-Type `content_type`; None sends none) without asking upstream."""
    return Fault("replace", status=code, body=body, content_type=content_type, headers=dict(headers or {}))


def malformed_json(body: bytes = b'{"repositories": ["models/a", ') -> Fault:
    return replace_body(body)


def wrong_content_type(content_type: str = "text/html; charset=utf-8") -> Fault:
    """Forward, but relabel the real body's Content-Type."""
    return Fault("content_type", content_type=content_type)


@dataclass
class Rule:
    fault: Fault
    path: str | None = None  # regex searched in the request path (with query)
    method: str | None = None
    times: int | None = None  # None: every matching request (a persistent fault)
    per_url: bool = False
    _used: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)

    def _claim(self, method: str, path: str) -> bool:
        if self.method is not None and method != self.method:
            return False
        if self.path is not None and not re.search(self.path, path):
            return False
        key = (method, path) if self.per_url else ("", "")
        used = self._used.get(key, 0)
        if self.times is not None and used >= self.times:
            return False
        self._used[key] = used + 1
        return True


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # with query
    headers: Mapping[str, str]
    at: float  # time.monotonic() when the request line arrived
    fault: str | None  # the fault kind applied, None if forwarded unchanged

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]

    @property
    def query(self) -> dict[str, tuple[str, ...]]:
        """The query's parameters, decoded, each with every value it was given."""
        parsed = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        return {key: tuple(values) for key, values in parsed.items()}

    def param(self, key: str) -> str | None:
        """The first value of query parameter `key`, or None when the request did not carry it."""
        values = self.query.get(key)
        return values[0] if values else None


Reply = tuple[int, Mapping[str, str], bytes]
Hook = Callable[[str, str, Mapping[str, str]], "Reply | None"]


class _Dropped(Exception):
    """The connection was dropped on purpose."""


class FaultProxy:
    """A proxy on 127.0.0.1 (a free port) in front of `upstream` (an http://host:port URL)."""

    def __init__(self, upstream: str, plan: Sequence[Rule] = (), *, upstream_timeout: float = 30.0,
                 hook: Hook | None = None) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be http://host:port, not {upstream!r}")
        self.upstream = upstream
        self._upstream_host = parts.hostname
        self._upstream_port = parts.port or 80
        self.upstream_timeout = upstream_timeout
        self._plan: list[Rule] = list(plan)
        self.hook = hook
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._stopping = threading.Event()
        self._server: LoopbackServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._stopping.clear()
        self._server = LoopbackServer(_make_handler(self), "fault-proxy")
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases stalled requests
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("proxy is not running")
        return self._server.port

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    # -- plan and record ---------------------------------------------------------------------------

    @property
    def plan(self) -> list[Rule]:
        return self._plan

    @plan.setter
    def plan(self, rules: Iterable[Rule]) -> None:
        with self._lock:
            self._plan = list(rules)

    @property
    def requests(self) -> tuple[Recorded, ...]:
        with self._lock:
            return tuple(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def matching(self, path: str = "", method: str | None = None) -> list[Recorded]:
        """Recorded requests whose path contains `path` (and whose method is `method`)."""
        return [r for r in self.requests if path in r.path and (method is None or r.method == method)]

    def _choose(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for rule in self._plan:
                if rule._claim(method, path):
                    return rule.fault
        return None

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self._requests.append(request)

    # -- forwarding ------------------------------------------------------------------------------

    def _forward(self, method: str, path: str, headers: Mapping[str, str],
                 body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self._upstream_host, self._upstream_port, timeout=self.upstream_timeout)
        try:
            send = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            if body is not None:
                send["Content-Length"] = str(len(body))
            conn.request(method, path, body=body, headers=send)
            resp = conn.getresponse()
            data = resp.read()
            out = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
            if method == "HEAD":  # no body, but the upstream's length is the answer's
                length = resp.getheader("Content-Length")
                if length is not None:
                    out.append(("Content-Length", length))
            return resp.status, out, data
        finally:
            conn.close()


def _make_handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FaultProxy/1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle(self) -> None:
            with contextlib.suppress(_Dropped, OSError, ValueError):
                super().handle()

        def finish(self) -> None:
            with contextlib.suppress(OSError, ValueError):
                super().finish()

        def _body(self) -> bytes | None:
            length = self.headers.get("Content-Length")
            if length is not None:
                return self.rfile.read(int(length))
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return None

        def _drop(self, *, rst: bool) -> None:
            self.close_connection = True
            try:
                self.wfile.flush()
                if rst:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.connection.close()
            raise _Dropped

        def _answer(self, code: int, headers: Iterable[tuple[str, str]], body: bytes, *,
                    content_type: str | None = None, replace_type: bool = False) -> None:
            self.send_response(code)
            has_length = False
            for key, value in headers:
                if replace_type and key.lower() == "content-type":
                    continue
                if key.lower() in ("date", "server"):
                    continue
                if key.lower() == "content-length":
                    has_length = True
                self.send_header(key, value)
            if replace_type and content_type is not None:
                self.send_header("Content-Type", content_type)
            if not has_length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _serve(self) -> None:
            method, path = self.command, self.path
            headers = {k: v for k, v in self.headers.items()}
            body = self._body()
            if proxy.hook is not None and (reply := proxy.hook(method, path, headers)) is not None:
                proxy._record(Recorded(method, path, headers, time.monotonic(), "hook"))
                code, reply_headers, reply_body = reply
                self._answer(code, list(reply_headers.items()), reply_body)
                return
            fault = proxy._choose(method, path)
            proxy._record(Recorded(method, path, headers, time.monotonic(), fault.kind if fault else None))
            if fault is None:
                self._answer(*proxy._forward(method, path, headers, body))
                return
            kind = fault.kind
            if kind == "reset":
                self._drop(rst=True)
            if kind == "stall":
                proxy._stopping.wait(fault.seconds)
                self._drop(rst=False)
            if kind in ("status", "replace"):
                extra = list(fault.headers.items())
                if fault.content_type is not None:
                    extra.append(("Content-Type", fault.content_type))
                self._answer(fault.status, extra, fault.body or b"")
                return
            if kind == "latency":
                proxy._stopping.wait(fault.seconds)
            code, out, data = proxy._forward(method, path, headers, body)
            if kind == "reset_mid_body":
                self.send_response(code)
                for key, value in out:
                    if key.lower() not in ("content-length", "date", "server"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(max(len(data), 2)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self._drop(rst=True)
            if kind == "truncate":
                out = [(k, v) for k, v in out if k.lower() != "content-length"]
                self._answer(code, out, data[: len(data) // 2])
                return
            if kind == "content_type":
                self._answer(code, out, data, content_type=fault.content_type, replace_type=True)
                return
            self._answer(code, out, data)  # latency

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    return Handler


__all__ = [
    "Fault", "FaultProxy", "Hook", "Recorded", "Reply", "Rule", "google_error", "latency", "malformed_json",
    "replace_body", "reset", "reset_mid_body", "stall", "status", "truncated_json", "wrong_content_type",
]
