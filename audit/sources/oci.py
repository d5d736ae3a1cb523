"""OCI Distribution source: lists repositories, tags and manifest digests of a registry, read-only.

Why an in-house client: no Python library covers async + correct Link pagination + Google's
tags/list `manifest` extension together (see shared/reference/local-components.md §5). The
audit only sends GET and HEAD. Anything it could not read becomes a `SourceError` naming the
repository or tag, so the report can say `complete: false` instead of skipping it silently.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import ipaddress
import json
import random
import re
import ssl
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, overload
from urllib.parse import quote, urljoin, urlsplit

import httpx
from registry_guard.catalogue.model import Image, RegistryState, ResourceRef

from audit.sharding import in_shard
from audit.sources.errors import SourceError

SOURCE: Final = "oci"

MANIFEST_TYPES: Final = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
# distribution answers a HEAD without this list with 404 for OCI manifests.
ACCEPT_MANIFESTS: Final = ", ".join(MANIFEST_TYPES)
GOOGLE_USERNAME: Final = "oauth2accesstoken"
_DIGEST_RE: Final = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_RETRY_STATUS: Final = frozenset({429, 500, 502, 503, 504})
_MAX_PAGES: Final = 100_000

TokenProvider = Callable[[], str]


class StaticToken:
    """A token provider holding a fixed secret; its repr never shows the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __call__(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "StaticToken(***)"


def google_adc_token_provider(
        scopes: Sequence[str] = ("https://www.googleapis.com/auth/cloud-platform",)) -> TokenProvider:
    """Access tokens from Application Default Credentials, refreshed when they expire."""
    import google.auth
    import google.auth.transport.requests

    credentials, _ = google.auth.default(scopes=list(scopes))

    def provide() -> str:
        if not credentials.valid:
            credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
        return str(credentials.token)

    return provide


# ---------------------------------------------------------------------------------------------
# Pure header parsers (property-tested: they never raise on arbitrary text).

@dataclass(frozen=True)
class BearerChallenge:
    realm: str
    service: str | None = None
    scope: str | None = None


_PARAM_RE: Final = re.compile(r'([A-Za-z][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


def parse_www_authenticate(header: str) -> BearerChallenge | None:
    """`Bearer realm="…",service="…",scope="…"` -> BearerChallenge; anything else -> None."""
    text = header.strip()
    if text[:6].lower() != "bearer" or (len(text) > 6 and not text[6].isspace()):
        return None
    params: dict[str, str] = {}
    for match in _PARAM_RE.finditer(text[6:]):
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(match.group(1).lower(), value)
    realm = params.get("realm")
    if not realm:
        return None
    return BearerChallenge(realm, params.get("service") or None, params.get("scope") or None)


_LINK_RE: Final = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,<]*)*)")


def parse_link_next(header: str) -> str | None:
    """The `rel="next"` target of an RFC 8288 Link header (possibly relative), or None."""
    for match in _LINK_RE.finditer(header):
        for param in match.group(2).split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "rel" and "next" in value.strip().strip('"').lower().split():
                return match.group(1).strip()
    return None


def parse_retry_after(header: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not header:
        return None
    text = header.strip()
    if text.isascii() and text.isdigit():  # str.isdigit() also accepts "²" and other non-ASCII digits
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_loopback_host(host: str) -> bool:
    """Whether plain http (and, for Artifact Registry, no credentials) may go to `host`: a loopback
    IP literal or exactly `localhost`. The one rule for every source.

    `*.localhost` and `localhost.` are refused: RFC 6761 §6.3 says resolvers SHOULD, not MUST, answer
    them with loopback, and glibc without nss-myhostname asks DNS, which could answer with a remote
    host. `localhost` itself is in /etc/hosts by convention. Fail safe: when unsure, https."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_url_allowed(url: str) -> None:
    """Only https, except plain http to a loopback host (local registries, tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return
    raise ValueError(
        f"refusing {parts.scheme or 'scheme-less'} URL to host {parts.hostname or '?'}: only https is "
        "allowed (plain http only to loopback: 127.0.0.0/8, ::1, localhost)"
    )


# ---------------------------------------------------------------------------------------------
# Result

@dataclass(frozen=True)
class OciInventory:
    """What one scan of one registry saw. `complete` is False when anything was not read."""

    registry: str  # host[:port], the ResourceRef name of every image's repository
    images: tuple[Image, ...]
    repositories: tuple[str, ...]
    errors: tuple[SourceError, ...]
    requests: int
    tags: int = 0

    @property
    def complete(self) -> bool:
        return not self.errors

    def to_state(self) -> RegistryState:
        return RegistryState(images=self.images)


class _FetchError(Exception):
    """One request that failed for good; the message is safe to show (no credentials)."""


# ---------------------------------------------------------------------------------------------
# HTTP layer: concurrency, rate limit, retries, bearer auth, request counting.

@dataclass
class _Http:
    client: _LeanWire | _HttpxWire
    concurrency: int
    max_retries: int
    rate_limit: float | None
    token_provider: TokenProvider | None = field(repr=False, default=None)
    backoff_base: float = 0.2
    backoff_cap: float = 10.0
    retry_after_cap: float = 60.0
    requests: int = 0
    _sem: asyncio.Semaphore = field(init=False, repr=False)
    _rate_lock: asyncio.Lock = field(init=False, repr=False)
    _next_slot: float = field(init=False, default=0.0)
    _tokens: dict[tuple[str, str | None, str | None], str] = field(
        init=False, repr=False, default_factory=dict)
    _token_locks: dict[tuple[str, str | None, str | None], asyncio.Lock] = field(
        init=False, repr=False, default_factory=dict)
    _by_hint: dict[str, str] = field(init=False, repr=False, default_factory=dict)
    _secrets: set[str] = field(init=False, repr=False, default_factory=set)

    def __post_init__(self) -> None:
        self._sem = asyncio.Semaphore(max(1, self.concurrency))
        self._rate_lock = asyncio.Lock()

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    async def _throttle(self) -> None:
        if not self.rate_limit:
            return
        async with self._rate_lock:
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + 1.0 / self.rate_limit
        if wait > 0:
            await asyncio.sleep(wait)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        delay = min(self.backoff_cap, self.backoff_base * (2 ** attempt))
        return float(delay / 2 + random.uniform(0, delay / 2))  # jitter: retries of many tasks spread out

    async def _send_once(self, method: str, url: str, headers: Mapping[str, str]) -> _Reply:
        if self.rate_limit:
            await self._throttle()
        async with self._sem:
            self.requests += 1
            return await self.client.request(method, url, headers)

    async def _send(self, method: str, url: str, headers: Mapping[str, str]) -> _Reply:
        """Send with bounded retries on 429/5xx/connection errors/timeouts."""
        attempt = 0
        while True:
            try:
                resp = await self._send_once(method, url, headers)
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise _FetchError(f"{type(exc).__name__} after {attempt + 1} attempts: "
                                      f"{self.redact(str(exc)) or 'no detail'}") from None
                await asyncio.sleep(self._backoff(attempt, None))
                attempt += 1
                continue
            if resp.status_code in _RETRY_STATUS and attempt < self.max_retries:
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                await asyncio.sleep(self._backoff(attempt, retry_after))
                attempt += 1
                continue
            return resp

    async def _token(self, challenge: BearerChallenge) -> str:
        check_url_allowed(challenge.realm)  # never send a Google token over plain http
        key = (challenge.realm, challenge.service, challenge.scope)
        lock = self._token_locks.setdefault(key, asyncio.Lock())
        async with lock:  # one token request per scope even when 16 tasks hit 401 together
            if key in self._tokens:
                return str(self._tokens[key])
            params = {k: v for k, v in (("service", challenge.service), ("scope", challenge.scope)) if v}
            headers = {"Accept": "application/json"}
            if self.token_provider is not None:
                try:
                    secret = await asyncio.to_thread(self.token_provider)
                except Exception as exc:
                    raise _FetchError(f"token provider failed: {type(exc).__name__}") from None
                self._secrets.add(secret)
                basic = base64.b64encode(f"{GOOGLE_USERNAME}:{secret}".encode()).decode()
                self._secrets.add(basic)
                headers["Authorization"] = f"Basic {basic}"
            url = str(httpx.URL(challenge.realm).copy_merge_params(params))
            resp = await self._send("GET", url, headers)
            if resp.status_code != 200:
                raise _FetchError(f"token endpoint {urlsplit(challenge.realm).netloc} answered "
                                  f"{resp.status_code} for scope {challenge.scope or '-'}")
            try:
                body = resp.json()
                token = body.get("token") or body.get("access_token")
            except (ValueError, AttributeError):
                token = None
            if not isinstance(token, str) or not token:
                raise _FetchError(f"token endpoint {urlsplit(challenge.realm).netloc} returned no token")
            self._secrets.add(token)
            self._tokens[key] = token
            return token

    async def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                      scope_hint: str | None = None) -> _Reply:
        """One logical request; on 401 with a Bearer challenge, fetch a token and retry once.
        `scope_hint` (e.g. `repository:a/b:pull`) lets later requests send the cached token up front."""
        base = dict(headers or {})
        send = dict(base)
        if scope_hint and scope_hint in self._by_hint:
            send["Authorization"] = f"Bearer {self._by_hint[scope_hint]}"
        resp = await self._send(method, url, send)
        if resp.status_code != 401:
            return resp
        challenge = parse_www_authenticate(resp.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            return resp
        try:
            token = await self._token(challenge)
        except ValueError as exc:
            raise _FetchError(str(exc)) from None
        if scope_hint:
            self._by_hint[scope_hint] = token
        send = dict(base)
        send["Authorization"] = f"Bearer {token}"
        return await self._send(method, url, send)


# ---------------------------------------------------------------------------------------------
# Wire: a lean HTTP/1.1 keep-alive client (the default), or httpx when a transport is given.
#
# Why: on a fast registry the scan is CPU-bound, and httpx.AsyncClient + httpcore + h11 cost more
# CPU per HEAD than the registry itself (measured ~5 ms of client CPU per request on the loaded
# 2-core bench box, where a bare client needs ~0.2 ms). The audit only sends small GET/HEAD requests
# without bodies, so a minimal HTTP/1.1 client over asyncio streams is enough. It raises httpx's
# TransportError subclasses, so the retry logic is the same for both wires.

_MAX_HEAD: Final = 256 * 1024  # response head (status line + headers) limit
_MAX_BODY: Final = 64 * 1024 * 1024  # catalog / tags/list pages are small; refuse anything absurd
_NO_BODY_STATUS: Final = frozenset({204, 304})
# What urlsplit strips or splits off beyond scheme/netloc/path/query: fragments, tabs and newlines,
# leading/trailing whitespace and C0 controls.
_URL_UNSAFE: Final = re.compile(r"[#\x00-\x20]")


class _Headers:
    """Case-insensitive, read-only response headers; repeated fields joined with ", " (as httpx does)."""

    __slots__ = ("_map",)

    def __init__(self, fields: dict[str, str]) -> None:
        self._map = fields  # lower-cased names -> values, as `_exchange` parses them

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    def get(self, name: str, default: str | None = None) -> str | None:
        return self._map.get(name.lower(), default)


class _Response:
    """What the scanner reads from a response: status, headers, JSON body."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: _Headers, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already torn down
            self.writer.close()


class _StaleConnection(Exception):
    """A reused keep-alive connection was closed by the server before any response byte."""


class _LeanWire:
    """HTTP/1.1 over asyncio streams with per-host keep-alive connections. TLS is verified as httpx
    verifies by default (certifi, environment ignored). No cookies, no redirects (the audit follows
    none), no proxies (trust_env=False before too). The caller bounds concurrency (`_Http._sem`)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}
        self._ssl: ssl.SSLContext | None = None
        self._user_agent = f"model-registry-guard python-httpx/{httpx.__version__}"
        self._origins: dict[str, tuple[tuple[str, str, int], str]] = {}

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context(trust_env=False)
        return self._ssl

    async def _connect(self, key: tuple[str, str, int]) -> _Conn:
        scheme, host, port = key
        try:
            async with asyncio.timeout(self.timeout):
                if scheme == "https":
                    reader, writer = await asyncio.open_connection(
                        host, port, ssl=self._ssl_context(), server_hostname=host, limit=_MAX_HEAD)
                else:
                    reader, writer = await asyncio.open_connection(host, port, limit=_MAX_HEAD)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connect to {host}:{port} timed out") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(f"connect to {host}:{port} failed: {exc}") from None
        return _Conn(reader, writer)

    def _origin(self, url: str) -> tuple[tuple[str, str, int], str, str]:
        """(connection key, Host header, request target) of `url`."""
        # Fast path: every request of a scan shares one `scheme://netloc/`; urlsplit and its
        # .hostname/.port cost more per HEAD than the rest of the request line. Only for URLs on
        # which urlsplit would strip or split nothing else (no fragment, no control characters).
        scheme_end = url.find("://")
        slash = url.find("/", scheme_end + 3) if scheme_end > 0 else -1
        if slash > 0 and not _URL_UNSAFE.search(url):
            cached = self._origins.get(url[:slash])
            if cached is not None:
                path, _, query = url[slash:].partition("?")
                return cached[0], cached[1], path + ("?" + query if query else "")
        parts = urlsplit(url)
        scheme = parts.scheme
        if scheme not in ("http", "https") or not parts.hostname:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise httpx.UnsupportedProtocol("invalid port in URL") from None
        key = (scheme, parts.hostname, port)
        host_header = parts.netloc.rpartition("@")[2]
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if slash > 0 and parts.path and url[:slash] == f"{scheme}://{parts.netloc}":
            self._origins[url[:slash]] = (key, host_header)
        return key, host_header, target

    async def request(self, method: str, url: str, headers: Mapping[str, str]) -> _Response:
        key, host_header, target = self._origin(url)
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host_header}"]
        lines += [f"{k}: {v}" for k, v in headers.items()
                  if "\r" not in v and "\n" not in v and k.lower() != "host"]
        lines.append(f"User-Agent: {self._user_agent}")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        idle = self._idle.setdefault(key, [])
        while idle:
            conn = idle.pop()
            if not conn.usable():
                conn.close()
                continue
            try:
                return await self._exchange(conn, method, payload, key)
            except _StaleConnection:
                conn.close()  # the server closed a kept-alive connection: retry once on a new one
        conn = await self._connect(key)
        try:
            return await self._exchange(conn, method, payload, key)
        except _StaleConnection:
            conn.close()
            raise httpx.RemoteProtocolError("server disconnected without sending a response") from None

    async def _exchange(self, conn: _Conn, method: str, payload: bytes, key: tuple[str, str, int]) -> _Response:
        reader = conn.reader
        content = b""
        try:
            conn.writer.write(payload)
            if conn.writer.transport.get_write_buffer_size():
                async with asyncio.timeout(self.timeout):  # only a full buffer can make drain wait
                    await conn.writer.drain()
            else:
                await conn.writer.drain()  # returns at once; still raises if the connection was lost
        except TimeoutError:
            conn.close()
            raise httpx.WriteTimeout("write timed out") from None
        except OSError:
            raise _StaleConnection from None
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    try:
                        head = await reader.readuntil(b"\r\n\r\n")
                    except asyncio.IncompleteReadError as exc:
                        if not exc.partial:
                            raise _StaleConnection from None
                        raise
                    status_line, _, header_block = head[:-4].decode("latin-1").partition("\r\n")
                    version, _, rest = status_line.partition(" ")
                    code = rest[:3]
                    if not version.startswith("HTTP/1.") or not (code.isascii() and code.isdigit()) \
                            or rest[3:4] not in ("", " "):
                        raise httpx.RemoteProtocolError("malformed HTTP status line")
                    status = int(code)
                    if 100 <= status < 200 and status != 101:
                        continue  # 1xx interim response: the final one follows
                    break
                fields: dict[str, str] = {}
                for line in header_block.split("\r\n") if header_block else ():
                    name, sep, value = line.partition(":")
                    if not sep or not name or name != name.strip():
                        raise httpx.RemoteProtocolError("malformed HTTP header")
                    field_name = name.lower()
                    value = value.strip()
                    fields[field_name] = f"{fields[field_name]}, {value}" if field_name in fields else value
                headers = _Headers(fields)
                length_text = fields.get("content-length")
                length: int | None = None
                if length_text is not None:
                    if length_text.isdigit():  # the usual single value: same result as below
                        length = int(length_text)
                    else:
                        values = {v.strip() for v in length_text.split(",")}
                        if len(values) != 1 or not next(iter(values)).isdigit():
                            raise httpx.RemoteProtocolError("bad Content-Length")
                        length = int(values.pop())
                chunked = (fields.get("transfer-encoding") or "").lower().rsplit(",", 1)[-1].strip() == "chunked"
                connection = (fields.get("connection") or "").lower()
                close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
                if method == "HEAD" or status in _NO_BODY_STATUS or status < 200:
                    content = b""
                elif chunked:
                    content = await self._read_chunked(reader)
                elif length is not None:
                    if length > _MAX_BODY:
                        raise httpx.RemoteProtocolError("response body too large")
                    content = await reader.readexactly(length)
                else:
                    content = await self._read_to_eof(reader)
                    close = True
        except _StaleConnection:
            raise
        except TimeoutError:
            conn.close()
            raise httpx.ReadTimeout("read timed out") from None
        except asyncio.IncompleteReadError:
            conn.close()
            raise httpx.RemoteProtocolError("server disconnected mid-response") from None
        except (asyncio.LimitOverrunError, ValueError):  # StreamReader raises ValueError past its limit
            conn.close()
            raise httpx.RemoteProtocolError("response head too large") from None
        except httpx.RemoteProtocolError:
            conn.close()
            raise
        except (OSError, ssl.SSLError) as exc:
            conn.close()
            raise httpx.ReadError(f"read failed: {type(exc).__name__}") from None
        if close:
            conn.close()
        else:
            self._idle.setdefault(key, []).append(conn)
        encoding = (fields.get("content-encoding") or "identity").lower().strip()
        if content and encoding in ("gzip", "deflate", "x-gzip"):
            try:
                content = zlib.decompress(content, 47)  # gzip or zlib header, auto-detected
            except zlib.error:
                raise httpx.DecodingError("bad compressed body") from None
        return _Response(status, headers, content)

    @staticmethod
    async def _read_to_eof(reader: asyncio.StreamReader) -> bytes:
        out = bytearray()
        while chunk := await reader.read(65536):
            out += chunk
            if len(out) > _MAX_BODY:
                raise httpx.RemoteProtocolError("response body too large")
        return bytes(out)

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        out = bytearray()
        while True:
            line = await reader.readuntil(b"\r\n")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise httpx.RemoteProtocolError("bad chunk size") from None
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return bytes(out)
            if len(out) + size > _MAX_BODY:
                raise httpx.RemoteProtocolError("response body too large")
            out += (await reader.readexactly(size + 2))[:-2]

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()


class _HttpxWire:
    """httpx.AsyncClient over a caller's transport (benchmarks wrap transports to add latency)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(self, method: str, url: str, headers: Mapping[str, str]) -> httpx.Response:
        return await self.client.request(method, url, headers=dict(headers))


_Reply = httpx.Response | _Response  # both wires' responses: status_code, headers.get(), json()


# ---------------------------------------------------------------------------------------------
# Registry walk

def _describe(resp: _Reply) -> str:
    """Status plus the registry's error codes (not the raw body: it could echo anything)."""
    codes = ""
    try:
        body = resp.json()
        if isinstance(body, dict) and isinstance(body.get("errors"), list):
            codes = ",".join(str(e.get("code")) for e in body["errors"] if isinstance(e, dict))[:200]
    except Exception:
        codes = ""
    return f"HTTP {resp.status_code}" + (f" {codes}" if codes else "")


def _json_object(resp: _Reply, what: str) -> dict[str, Any]:
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise _FetchError(f"{what}: expected JSON, got content type {ctype or 'none'!r}")
    try:
        body = resp.json()
    except ValueError:
        raise _FetchError(f"{what}: response is not valid JSON") from None
    if not isinstance(body, dict):
        raise _FetchError(f"{what}: expected a JSON object, got {type(body).__name__}")
    return body


def _ms_to_datetime(value: object) -> datetime | None:
    """GCR sends times as strings of ms, Artifact Registry as ints."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        ms = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise _FetchError(f"bad time value {str(value)[:40]!r}") from None
    if ms <= 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise _FetchError(f"time value out of range {ms}") from None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        raise _FetchError(f"bad size value {str(value)[:40]!r}") from None


@dataclass(frozen=True)
class _ManifestInfo:
    digest: str
    tags: tuple[str, ...]
    size: int | None
    uploaded: datetime | None


@dataclass(frozen=True)
class _TagListing:
    tags: tuple[str, ...]
    manifests: tuple[_ManifestInfo, ...] | None  # None: no Google `manifest` map
    children: tuple[str, ...]


def _parse_manifest_map(raw: object) -> list[_ManifestInfo]:
    if not isinstance(raw, dict):
        raise _FetchError("`manifest` is not a JSON object")
    out = []
    for digest, info in raw.items():
        if not isinstance(digest, str) or not _DIGEST_RE.match(digest) or not isinstance(info, dict):
            raise _FetchError(f"bad `manifest` entry {str(digest)[:80]!r}")
        tags = info.get("tag") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise _FetchError(f"bad tag list for {digest}")
        uploaded = _ms_to_datetime(info.get("timeUploadedMs")) or _ms_to_datetime(info.get("timeCreatedMs"))
        out.append(_ManifestInfo(digest, tuple(tags), _int_or_none(info.get("imageSizeBytes")), uploaded))
    return out


@dataclass(eq=False)
class _HeadBatch:
    """One repository's HEADs for the shared workers; `done` resolves when every tag is answered."""

    repo: str
    target: str
    digests: list[str | None]  # by index into the repository's tags to HEAD
    remaining: int
    done: asyncio.Future[None]


class _Scanner:
    def __init__(self, base_url: str, http: _Http, page_size: int) -> None:
        self.base = base_url.rstrip("/")
        self.host = urlsplit(self.base).netloc
        self.http = http
        self.page_size = page_size
        self.errors: list[SourceError] = []
        self.images: list[Image] = []
        self.tag_count = 0
        self._heads: asyncio.Queue[tuple[_HeadBatch, int, str]] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._manifests_url: dict[str, str] = {}  # repo -> URL prefix of its manifests

    def error(self, target: str, message: str) -> None:
        self.errors.append(SourceError(SOURCE, target, self.http.redact(message)))

    # Why a fixed pool of `concurrency` workers for the HEADs rather than a task per tag queueing on
    # the semaphore: a task, a semaphore future and two event-loop hops per HEAD cost client CPU, and
    # the next request went out a loop iteration after a response instead of at once, leaving the
    # registry's connection idle meanwhile. The semaphore still bounds all requests.
    def start_workers(self, count: int) -> None:
        self._workers = [asyncio.create_task(self._head_worker()) for _ in range(count)]

    async def stop_workers(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _head_worker(self) -> None:
        queue = self._heads
        while True:
            batch, index, tag = await queue.get()
            try:
                batch.digests[index] = await self.head_digest(batch.repo, tag)
            except _FetchError as exc:
                self.error(f"{batch.target}:{tag}", str(exc))
            except Exception as exc:  # a bug, not the registry: fails the scan as it would unpooled
                if not batch.done.done():
                    batch.done.set_exception(exc)
                continue
            batch.remaining -= 1
            if batch.remaining == 0 and not batch.done.done():
                batch.done.set_result(None)

    async def head_all(self, repo: str, target: str, tags: Sequence[str]) -> list[str | None]:
        """The digest of each tag (None where it could not be read: recorded as an error)."""
        if not tags:
            return []
        batch = _HeadBatch(repo, target, [None] * len(tags), len(tags),
                           asyncio.get_running_loop().create_future())
        for index, tag in enumerate(tags):
            self._heads.put_nowait((batch, index, tag))
        await batch.done
        return batch.digests

    async def _paged(self, first_url: str, what: str, scope: str,
                     last_param: Callable[[dict[str, Any]], str | None] | None) -> list[dict[str, Any]]:
        """Follow `Link: rel=next` (relative URLs resolved); if there is none but the page was full,
        fall back to `last=` (older registries paginate without a Link header)."""
        pages: list[dict[str, Any]] = []
        url: str | None = first_url
        seen: set[str] = set()
        while url is not None:
            if url in seen or len(pages) >= _MAX_PAGES:
                raise _FetchError(f"{what}: pagination loops at {urlsplit(url).path}?{urlsplit(url).query}")
            seen.add(url)
            try:
                check_url_allowed(url)  # a Link header must not lead us off to plain http
            except ValueError as exc:
                raise _FetchError(f"{what}: next page {exc}") from None
            resp = await self.http.request("GET", url, headers={"Accept": "application/json"},
                                           scope_hint=scope)
            if resp.status_code != 200:
                raise _FetchError(f"{what}: {_describe(resp)}")
            body = _json_object(resp, what)
            pages.append(body)
            nxt = parse_link_next(resp.headers.get("Link", ""))
            if nxt is not None:
                url = urljoin(url, nxt)
            elif last_param is not None and (last := last_param(body)) is not None:
                url = str(httpx.URL(first_url).copy_merge_params({"n": str(self.page_size), "last": last}))
            else:
                url = None
        return pages

    async def catalog(self) -> list[str]:
        seen: set[str] = set()

        def fallback(body: dict[str, Any]) -> str | None:
            repos = body.get("repositories")
            if not isinstance(repos, list) or len(repos) < self.page_size or not isinstance(repos[-1], str):
                return None
            new = {r for r in repos if isinstance(r, str)} - seen
            seen.update(new)
            # A registry that ignores `last` returns the same page again: stop instead of looping.
            return repos[-1] if new else None

        first = f"{self.base}/v2/_catalog?n={self.page_size}"
        names: list[str] = []
        for body in await self._paged(first, "catalog", "registry:catalog:*", fallback):
            repos = body.get("repositories")
            if repos is None:
                repos = []
            if not isinstance(repos, list) or not all(isinstance(r, str) for r in repos):
                raise _FetchError("catalog: `repositories` is not a list of names")
            names.extend(repos)
        return sorted(set(names))

    async def tag_listing(self, repo: str) -> _TagListing:
        scope = f"repository:{repo}:pull"
        url = f"{self.base}/v2/{quote(repo, safe='/')}/tags/list"
        tags: list[str] = []
        manifests: list[_ManifestInfo] | None = None
        children: list[str] = []
        for body in await self._paged(url, "tags/list", scope, None):
            page_tags = body.get("tags")
            if page_tags is None:  # distribution: a repo whose manifests were all deleted
                page_tags = []
            if not isinstance(page_tags, list) or not all(isinstance(t, str) for t in page_tags):
                raise _FetchError("tags/list: `tags` is not a list of strings")
            tags.extend(page_tags)
            if "manifest" in body:
                manifests = (manifests or []) + _parse_manifest_map(body["manifest"])
            child = body.get("child")
            if isinstance(child, list):
                children.extend(c for c in child if isinstance(c, str) and c)
        return _TagListing(tuple(sorted(set(tags))), None if manifests is None else tuple(manifests),
                           tuple(children))

    async def head_digest(self, repo: str, tag: str) -> str:
        prefix = self._manifests_url.get(repo)
        if prefix is None:
            prefix = self._manifests_url[repo] = f"{self.base}/v2/{quote(repo, safe='/')}/manifests/"
        url = prefix + quote(tag, safe="")
        resp = await self.http.request("HEAD", url, headers={"Accept": ACCEPT_MANIFESTS},
                                       scope_hint=f"repository:{repo}:pull")
        if resp.status_code != 200:
            raise _FetchError(f"HEAD manifest: {_describe(resp)}")
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype not in MANIFEST_TYPES:
            raise _FetchError(f"HEAD manifest: unexpected content type {ctype or 'none'!r}")
        digest = str(resp.headers.get("Docker-Content-Digest", "")).strip()
        if not _DIGEST_RE.match(digest):
            raise _FetchError("HEAD manifest: missing or malformed Docker-Content-Digest header")
        return digest

    async def scan_repo(self, repo: str) -> tuple[str, ...]:
        """Read one repository; returns Google `child` repositories to visit too."""
        target = f"{self.host}/{repo}"
        try:
            listing = await self.tag_listing(repo)
        except _FetchError as exc:
            self.error(target, str(exc))
            return ()
        self.tag_count += len(listing.tags)
        by_digest: dict[str, set[str]] = {}
        meta: dict[str, _ManifestInfo] = {}
        to_head: list[str] = list(listing.tags)
        if listing.manifests is not None:
            # Google's extension already maps digest -> tags: no HEAD per tag.
            for info in listing.manifests:
                by_digest.setdefault(info.digest, set()).update(info.tags)
                meta[info.digest] = info
            mapped = {t for tags in by_digest.values() for t in tags}
            to_head = [t for t in listing.tags if t not in mapped]  # fail closed on gaps in the map

        for tag, digest in zip(to_head, await self.head_all(repo, target, to_head), strict=True):
            if digest is not None:
                by_digest.setdefault(digest, set()).add(tag)
        for digest, tags in by_digest.items():
            known = meta.get(digest)
            self.images.append(Image(
                repository=ResourceRef("repository", self.host), package=repo, digest=digest,
                tags=tuple(sorted(tags)), size_bytes=known.size if known else None,
                uploaded=known.uploaded if known else None, source=f"{SOURCE}:{self.base}",
            ))
        return tuple(f"{repo}/{c}" for c in listing.children)


async def scan_oci_registry_async(
    url: str, *, repositories: Iterable[str] | None = None, concurrency: int = 16,
    token_provider: TokenProvider | None = None, timeout: float = 10.0, max_retries: int = 4,
    rate_limit: float | None = None, shard: tuple[int, int] | None = None, page_size: int = 100,
    backoff_base: float = 0.2, transport: httpx.AsyncBaseTransport | None = None,
) -> OciInventory:
    """Async form of `scan_oci_registry`; `transport` replaces the built-in lean HTTP/1.1 transport
    (e.g. to wrap it, or httpx's own, with latency in a benchmark)."""
    check_url_allowed(url)
    if shard is not None and not (shard[1] >= 1 and 0 <= shard[0] < shard[1]):
        raise ValueError("shard must be (index, count) with 0 <= index < count")
    if concurrency < 1 or max_retries < 0 or page_size < 1 or (rate_limit is not None and rate_limit <= 0):
        raise ValueError("concurrency and page_size must be >= 1, max_retries >= 0, rate_limit > 0")
    async with contextlib.AsyncExitStack() as stack:
        wire: _LeanWire | _HttpxWire
        if transport is None:
            wire = _LeanWire(timeout)
            stack.push_async_callback(wire.aclose)
        else:
            limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            wire = _HttpxWire(await stack.enter_async_context(httpx.AsyncClient(
                timeout=timeout, limits=limits, follow_redirects=False, transport=transport, trust_env=False)))
        http = _Http(wire, concurrency, max_retries, rate_limit, token_provider, backoff_base)
        scanner = _Scanner(url, http, page_size)
        scanner.start_workers(concurrency)
        stack.push_async_callback(scanner.stop_workers)  # before the wire closes (callbacks run LIFO)
        if repositories is None:
            try:
                repos = await scanner.catalog()
            except _FetchError as exc:
                scanner.error(f"{scanner.host}/_catalog", str(exc))
                repos = []
        else:
            repos = sorted(set(repositories))
        todo = [r for r in repos if in_shard(r, shard)]
        done: set[str] = set()
        while todo:
            done.update(todo)
            children = await asyncio.gather(*(scanner.scan_repo(r) for r in todo))
            todo = sorted({c for cs in children for c in cs if c not in done})
    return OciInventory(
        registry=scanner.host,
        images=tuple(sorted(scanner.images, key=lambda i: (i.package, i.digest or ""))),
        repositories=tuple(sorted(done)),
        errors=tuple(sorted(scanner.errors)),
        requests=http.requests,
        tags=scanner.tag_count,
    )


def scan_oci_registry(
    url: str, *, repositories: Iterable[str] | None = None, concurrency: int = 16,
    token_provider: TokenProvider | None = None, timeout: float = 10.0, max_retries: int = 4,
    rate_limit: float | None = None, shard: tuple[int, int] | None = None, page_size: int = 100,
    backoff_base: float = 0.2,
) -> OciInventory:
    """Scan a registry read-only (GET/HEAD only): every repository from the catalog (or the given
    ones; `shard=(i, n)` keeps a stable 1/n of them), every tag, grouped by manifest digest.

    Raises only for bad arguments (e.g. plain http to a non-loopback host); everything the
    registry does wrong is in `errors`."""
    inventory: list[OciInventory] = []

    async def main() -> None:
        inventory.append(await scan_oci_registry_async(
            url, repositories=repositories, concurrency=concurrency, token_provider=token_provider,
            timeout=timeout, max_retries=max_retries, rate_limit=rate_limit, shard=shard,
            page_size=page_size, backoff_base=backoff_base,
        ))

    # The main task returns nothing: asyncio.run, restoring the SIGINT handler, formats a repr of
    # that task with its result (signal's enum lookup of the handler); for an inventory that is a
    # repr of every image, twice (~70 ms at 5,000 images).
    asyncio.run(main())
    return inventory[0]


__all__ = [
    "ACCEPT_MANIFESTS", "BearerChallenge", "OciInventory", "StaticToken", "TokenProvider",
    "check_url_allowed", "google_adc_token_provider", "is_loopback_host", "parse_link_next",
    "parse_retry_after", "parse_www_authenticate", "scan_oci_registry", "scan_oci_registry_async",
]
