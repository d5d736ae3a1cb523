"""The wire under the HTTP layer: a lean HTTP/1.1 keep-alive client (the default), or httpx when a
transport is given.

Why: on a fast registry the scan is CPU-bound, and httpx.AsyncClient + httpcore + h11 cost more
CPU per HEAD than the registry itself (measured ~5 ms of client CPU per request on the loaded
2-core bench box, where a bare client needs ~0.2 ms). The audit only sends small GET/HEAD requests
without bodies, so a minimal HTTP/1.1 client over asyncio streams is enough. It raises httpx's
TransportError subclasses, so the retry logic is the same for both wires.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import ssl
import zlib
from collections.abc import Mapping
from typing import Any, Final, overload
from urllib.parse import urlsplit

import httpx

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


class LeanWire:
    """HTTP/1.1 over asyncio streams with per-host keep-alive connections. TLS is verified as httpx
    verifies by default (certifi, environment ignored). No cookies, no redirects (the audit follows
    none), no proxies (trust_env=False before too). The caller bounds concurrency (`HttpClient._sem`)."""

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


class HttpxWire:
    """httpx.AsyncClient over a caller's transport (benchmarks wrap transports to add latency)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(self, method: str, url: str, headers: Mapping[str, str]) -> httpx.Response:
        return await self.client.request(method, url, headers=dict(headers))


Reply = httpx.Response | _Response  # both wires' responses: status_code, headers.get(), json()
