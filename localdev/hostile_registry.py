"""Hostile registries on 127.0.0.1: small HTTP servers that answer the Distribution API the way a malicious or
broken registry would, and record every request they get (to prove where credentials went).

    with HostileRegistry(endless_tags()) as registry:      # a registry whose tag pages never end
        ... scan registry.url ...
        registry.requests                                 # method, path, headers of each request

Each scenario below is a function returning a `Handler` (request -> `Answer`); `Answer.body` may be bytes or
a list of pieces sent with `drip` seconds between them (chunked), for bodies that arrive slowly. With
`tls=TlsFiles(...)` (see `localdev.tls`) the registry speaks https. Standard library only, threaded.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import ssl
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localdev.loopback import LoopbackServer
from localdev.tls import TlsFiles

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
DIGEST = "sha256:" + "ab" * 32


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with query
    headers: Mapping[str, str]

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]

    def param(self, key: str) -> str | None:
        values = parse_qs(urlsplit(self.path).query).get(key)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | Sequence[bytes] = b""
    drip: float = 0.0  # seconds before each piece of a list body


Handler = Callable[[Request], Answer]


def json_answer(body: object, status: int = 200, **headers: str) -> Answer:
    return Answer(status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode())


def manifest_answer() -> Answer:
    """A HEAD manifests/<tag> answer: every tag is one image."""
    return Answer(200, {"Content-Type": MANIFEST_TYPE, "Docker-Content-Digest": DIGEST})


class HostileRegistry:
    """A threaded HTTP(S) server on 127.0.0.1 (a free port) answering with `handler`."""

    def __init__(self, handler: Handler, *, tls: TlsFiles | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the registry is not running")
        return self._server.port

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    @property
    def requests(self) -> tuple[Request, ...]:
        with self._lock:
            return tuple(self._requests)

    def matching(self, route_part: str) -> list[Request]:
        return [r for r in self.requests if route_part in r.route]

    def start(self) -> HostileRegistry:
        context = None
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(self.tls.cert), str(self.tls.key))
        self._server = LoopbackServer(_make_handler(self), "hostile-registry", tls=context)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> HostileRegistry:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _make_handler(registry: HostileRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle(self) -> None:
            with contextlib.suppress(OSError, ssl.SSLError, ValueError):
                super().handle()

        def _serve(self) -> None:
            request = Request(self.command, self.path, dict(self.headers.items()))
            with registry._lock:
                registry._requests.append(request)
            answer = registry.handler(request)
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            if isinstance(answer.body, bytes | bytearray):
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if self.command == "HEAD":
                return
            for piece in answer.body:
                if answer.drip and registry._stopping.wait(answer.drip):
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

        do_GET = do_HEAD = _serve

    return Handler


# --- scenarios --------------------------------------------------------------------------------------------

def plain(repositories: Sequence[str] = ("models/llm",), tags: Sequence[str] = ("v1",)) -> Handler:
    """An honest registry: `repositories`, each with `tags`, every tag the same image."""
    def handle(request: Request) -> Answer:
        if request.route == "/v2/_catalog":
            return json_answer({"repositories": list(repositories)})
        if request.route.endswith("/tags/list"):
            return json_answer({"name": request.route[4:-10], "tags": list(tags)})
        if "/manifests/" in request.route:
            return manifest_answer()
        return json_answer({"errors": [{"code": "NOT_FOUND"}]}, 404)

    return handle


def bearer(inner: Handler, realm: str, *, issued: str = "issued-registry-token", service: str = "hostile",
           token_answer: Callable[[Request], Answer] | None = None) -> Handler:
    """`inner` behind GCR-style bearer auth whose 401 names `realm` (perhaps on another host). This server's
    own `/token` answers `token_answer` (default: the `issued` token to anyone), so a realm on it works too."""
    def handle(request: Request) -> Answer:
        if request.route == "/token":
            return token_answer(request) if token_answer else json_answer({"token": issued})
        if request.header("Authorization") != f"Bearer {issued}":
            challenge = f'Bearer realm="{realm}",service="{service}",scope="registry:catalog:*"'
            return json_answer({"errors": [{"code": "UNAUTHORIZED"}]}, 401, **{"WWW-Authenticate": challenge})
        return inner(request)

    return handle


def collector() -> Handler:
    """The attacker's host: answers a token and a plausible registry to anyone, and keeps what it is sent
    (read `HostileRegistry.requests`)."""
    honest = plain(("stolen/repo",), ("v9",))

    def handle(request: Request) -> Answer:
        if request.route == "/token":
            return json_answer({"token": "attacker-token"})
        return honest(request)

    return handle


def link_to(next_url: str, repositories: Sequence[str] = ("models/llm",)) -> Handler:
    """A registry whose catalog's first page sends the next page to `next_url` (another origin)."""
    honest = plain(repositories)

    def handle(request: Request) -> Answer:
        if request.route == "/v2/_catalog":
            return json_answer({"repositories": list(repositories)}, Link=f'<{next_url}>; rel="next"')
        return honest(request)

    return handle


def gzip_bomb_body(total_bytes: int = 2 * 1024 ** 3, chunk_bytes: int = 64 * 1024 ** 2) -> bytes:
    """One gzip member of ~2 MB that inflates to `total_bytes` (default 2 GiB) of JSON: a tags/list object
    followed by spaces. Built in seconds, not by compressing 2 GiB: after a full flush a deflate compressor
    starts afresh, so the compressed form of one `chunk_bytes` run of spaces is repeated as it is."""
    head = b'{"name": "models/llm", "tags": ["v1"]'
    chunk = b" " * chunk_bytes
    count = max(1, (total_bytes - len(head)) // chunk_bytes)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: the gzip frame is written here
    first = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    last = compressor.compress(b"}") + compressor.flush()
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(b"}", crc)
    size = (len(head) + count * chunk_bytes + 1) % 2 ** 32
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + first + block * count + last + crc.to_bytes(4, "little") + size.to_bytes(4, "little")


def gzip_bomb(body: bytes) -> Handler:
    """tags/list answers `body` (see `gzip_bomb_body`) as `Content-Encoding: gzip`."""
    honest = plain()

    def handle(request: Request) -> Answer:
        if request.route.endswith("/tags/list"):
            return Answer(200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, body)
        return honest(request)

    return handle


def nested_json(depth: int = 100_000) -> Handler:
    """tags/list answers JSON nested `depth` levels deep."""
    honest = plain()
    body = b'{"tags": ' + b"[" * depth + b"]" * depth + b"}"

    def handle(request: Request) -> Answer:
        if request.route.endswith("/tags/list"):
            return Answer(200, {"Content-Type": "application/json"}, body)
        return honest(request)

    return handle


def endless_tags(page_size: int = 100, drip: float = 0.0) -> Handler:
    """tags/list pages without end, each with `page_size` new tags and a Link to the next (`drip` seconds
    before each page's body, e.g. just under the scan's timeout)."""
    honest = plain()

    def handle(request: Request) -> Answer:
        if request.route.endswith("/tags/list"):
            page = int(request.param("page") or 0)
            tags = [f"v{page}.{i}" for i in range(page_size)]
            body = json.dumps({"name": "models/llm", "tags": tags}).encode()
            link = f'</v2/models/llm/tags/list?page={page + 1}>; rel="next"'
            return Answer(200, {"Content-Type": "application/json", "Link": link}, [body], drip=drip)
        return honest(request)

    return handle


def retry_after(value: str, status: int = 429) -> Handler:
    """Every request answered `status` with `Retry-After: value`."""
    def handle(request: Request) -> Answer:
        return json_answer({"errors": [{"code": "TOOMANYREQUESTS"}]}, status, **{"Retry-After": value})

    return handle


def tags_pages(count: int, page_size: int = 10) -> Handler:
    """A legitimate registry whose one repository's tags come in `count` linked pages."""
    honest = plain()

    def handle(request: Request) -> Answer:
        if request.route.endswith("/tags/list"):
            page = int(request.param("page") or 0)
            tags = [f"v{page}.{i}" for i in range(page_size)]
            headers = {"Content-Type": "application/json"}
            if page + 1 < count:
                headers["Link"] = f'</v2/models/llm/tags/list?page={page + 1}>; rel="next"'
            return Answer(200, headers, json.dumps({"name": "models/llm", "tags": tags}).encode())
        return honest(request)

    return handle


def slow_clock(step: float) -> Callable[[], float]:
    """A monotonic clock that moves `step` seconds each time it is read (deadline tests, speed-independent)."""
    ticks = itertools.count()
    return lambda: next(ticks) * step


__all__ = [
    "DIGEST", "MANIFEST_TYPE", "Answer", "Handler", "HostileRegistry", "Request", "bearer", "collector",
    "endless_tags", "gzip_bomb", "gzip_bomb_body", "json_answer", "link_to", "manifest_answer", "nested_json",
    "plain", "retry_after", "slow_clock", "tags_pages",
]
