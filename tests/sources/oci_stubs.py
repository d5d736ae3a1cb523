"""Tiny stdlib HTTP servers on 127.0.0.1 for the source tests: they either proxy the real registry
(injecting faults, requiring a bearer token) or speak Google's tags/list extension, which no local
registry implements. Real sockets, real HTTP: no mocked transports."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Seeded:
    """A seeded local registry and what it holds (shared by conftest and the tests)."""

    url: str
    host: str
    # {(repo, digest): sorted tags}
    expected: dict[tuple[str, str], tuple[str, ...]]


# (status, headers, body) or None to pass the request on.
Reply = tuple[int, dict[str, str], bytes]
Hook = Callable[[str, str], Reply | None]


@dataclass
class StubServer:
    """A threaded HTTP server on 127.0.0.1:0 that answers with `handler(method, path, headers)`
    and counts requests per (method, path-without-query)."""

    handler: Callable[[str, str, dict[str, str]], Reply]
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    _httpd: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> StubServer:
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                stub.counts[(self.command, self.path.split("?")[0])] += 1
                status, headers, body = stub.handler(self.command, self.path, dict(self.headers))
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "date",
                                           "server"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def requests(self, method: str, contains: str = "") -> int:
        return sum(n for (m, p), n in self.counts.items() if m == method and contains in p)


def json_reply(body: object, status: int = 200, **headers: str) -> Reply:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


def registry_proxy(upstream: str, hook: Hook | None = None) -> StubServer:
    """Forward GET/HEAD to the real registry unless `hook(method, path)` answers first."""
    client = httpx.Client(base_url=upstream, timeout=10.0)

    def handle(method: str, path: str, headers: dict[str, str]) -> Reply:
        if hook is not None and (reply := hook(method, path)) is not None:
            return reply
        fwd = {k: v for k, v in headers.items() if k.lower() in ("accept", "authorization")}
        resp = client.request(method, path, headers=fwd)
        # Link stays relative, as distribution sends it.
        out = {k: v for k, v in resp.headers.items() if k.lower() != "content-encoding"}
        return resp.status_code, out, resp.content

    return StubServer(handle)


SECRET = "ya29.super-secret-google-token"
ISSUED = "opaque-registry-token-1234"


def token_proxy(upstream: str) -> StubServer:
    """GCR-like bearer auth in front of the real registry: `/v2/*` needs `Bearer ISSUED`, which
    `/token` issues for Basic `oauth2accesstoken:SECRET` (opaque token: no JWT library needed)."""
    proxy: StubServer
    inner = registry_proxy(upstream)

    def handle(method: str, path: str, headers: dict[str, str]) -> Reply:
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if path.startswith("/token"):
            good = "Basic " + base64.b64encode(f"oauth2accesstoken:{SECRET}".encode()).decode()
            if auth != good:
                return json_reply({"errors": [{"code": "DENIED"}]}, 401)
            return json_reply({"token": ISSUED, "expires_in": 300})
        if auth != f"Bearer {ISSUED}":
            scope = "registry:catalog:*"
            if "/tags/list" in path or "/manifests/" in path:
                scope = f"repository:{path[4:].split('/tags/list')[0].split('/manifests/')[0]}:pull"
            challenge = f'Bearer realm="{proxy.url}/token",service="emu-registry",scope="{scope}"'
            return json_reply({"errors": [{"code": "UNAUTHORIZED"}]}, 401, **{"WWW-Authenticate": challenge})
        return inner.handler(method, path, headers)

    proxy = StubServer(handle)
    return proxy
