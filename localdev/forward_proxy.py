"""A forward HTTP proxy on 127.0.0.1, as an enterprise network puts in front of the internet: plain http
requests in absolute form are forwarded, https goes through a `CONNECT` tunnel. It records each request
(method, target, the Proxy-Authorization it carried), so a test can prove the audit went through it.

    with ForwardProxy() as proxy:                  # HTTPS_PROXY=proxy.url
        ... scan ...
        proxy.requests                             # [("CONNECT", "127.0.0.1:8443", None), ...]

`require_auth="user:pass"` answers 407 to requests without those Basic credentials. Standard library only.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import select
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from localdev.loopback import LoopbackServer

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
                         "transfer-encoding", "upgrade"})


@dataclass(frozen=True)
class ProxiedRequest:
    method: str
    target: str  # `host:port` for CONNECT, the absolute URL otherwise
    proxy_authorization: str | None


class ForwardProxy:
    def __init__(self, *, require_auth: str | None = None) -> None:
        self.require_auth = require_auth
        self._requests: list[ProxiedRequest] = []
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not running")
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def requests(self) -> tuple[ProxiedRequest, ...]:
        with self._lock:
            return tuple(self._requests)

    def _record(self, request: ProxiedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _authorised(self, header: str | None) -> bool:
        if self.require_auth is None:
            return True
        return header == "Basic " + base64.b64encode(self.require_auth.encode()).decode()

    def start(self) -> ForwardProxy:
        self._server = LoopbackServer(_make_handler(self), "forward-proxy")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> ForwardProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _make_handler(proxy: ForwardProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle(self) -> None:
            with contextlib.suppress(OSError, ValueError):
                super().handle()

        def _refuse(self, status: int, message: str) -> None:
            self.send_response(status, message)
            if status == 407:
                self.send_header("Proxy-Authenticate", 'Basic realm="proxy"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_CONNECT(self) -> None:
            auth = self.headers.get("Proxy-Authorization")
            proxy._record(ProxiedRequest("CONNECT", self.path, auth))
            if not proxy._authorised(auth):
                self._refuse(407, "Proxy Authentication Required")
                return
            host, _, port = self.path.rpartition(":")
            if host.strip("[]") not in ("127.0.0.1", "localhost", "::1"):
                self._refuse(403, "Forbidden")  # nothing beyond loopback
                return
            try:
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
            except (OSError, ValueError):
                self._refuse(502, "Bad Gateway")
                return
            self.send_response(200, "Connection Established")
            self.end_headers()
            self.close_connection = True
            _pipe(self.connection, upstream)

        def _forward(self) -> None:
            auth = self.headers.get("Proxy-Authorization")
            proxy._record(ProxiedRequest(self.command, self.path, auth))
            if not proxy._authorised(auth):
                self._refuse(407, "Proxy Authentication Required")
                return
            parts = urlsplit(self.path)
            if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
                self._refuse(403, "Forbidden")
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
            try:
                conn.request(self.command, parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                self.send_response(resp.status, resp.reason)
                for key, value in resp.getheaders():
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                length = resp.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
            except OSError:
                self._refuse(502, "Bad Gateway")
            finally:
                conn.close()

        do_GET = do_HEAD = _forward

    return Handler


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets = [client, upstream]
    try:
        while True:
            readable, _, broken = select.select(sockets, [], sockets, 30)
            if broken or not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)
    except OSError:
        return
    finally:
        upstream.close()


__all__ = ["ForwardProxy", "ProxiedRequest"]
