"""The wire under the HTTP layer: aiohttp, with the environment's proxies and CA bundles, and every
response body read under a size limit.

Why aiohttp: a maintained async client whose HTTP/1.1 parser is C (llhttp), so a scan of thousands of
HEADs stays registry-bound rather than client-bound, and which speaks to HTTP proxies (CONNECT for https).
Its own `trust_env` is not used: per request it reads ~/.netrc in a thread (and sends those credentials
to any host listed there) and looks the proxy up again in another thread. The environment is read once
here instead, as the standard library reads it (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, either case).

TLS is verified against `SSL_CERT_FILE`, `SSL_CERT_DIR` and `REQUESTS_CA_BUNDLE` when any is set (as
OpenSSL, httpx and requests each take one of them: the given bundle replaces the default), else against
certifi's bundle, as before. No cookies are kept and no redirect is followed.
"""

from __future__ import annotations

import json
import re
import ssl
import sys
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import aiohttp
import certifi
from yarl import URL

from audit import __version__
from audit.sources.oci.limits import size_text

USER_AGENT: Final = f"model-registry-guard/{__version__} aiohttp/{aiohttp.__version__}"
_CA_VARIABLES: Final = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
# Printable ASCII without space, '#' or '%': nothing for yarl to re-quote, so it is sent as it is.
_PLAIN_URL: Final = re.compile(r"^https?://[\x21\x22\x24\x26-\x7e]+$")


class WireError(Exception):
    """The request failed on the way (connect, timeout, reset, malformed or truncated response): worth a
    retry. The message is safe to show: it names the kind of failure and the host, never a header."""


class ResponseError(Exception):
    """The response arrived but cannot be used (e.g. its body is larger than the limit): not retried."""


class Reply:
    """What the scanner reads from a response: status, headers (case-insensitive) and the body."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def header_values(self, name: str) -> list[str]:
        """Every value of a header that may be repeated (Link, WWW-Authenticate)."""
        getall = getattr(self.headers, "getall", None)
        if getall is not None:
            return list(getall(name, ()))
        value = self.headers.get(name)
        return [] if value is None else [value]

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not JSON or nested too deeply for the parser."""
        try:
            return json.loads(self.content)
        except RecursionError:
            raise ValueError(f"JSON nested too deeply (the parser stops at about {sys.getrecursionlimit()} "
                             "levels)") from None


def ssl_context(environ: Mapping[str, str]) -> ssl.SSLContext:
    """The TLS context every https request of a scan uses (see the module docstring). ValueError, naming
    the variable, when a bundle it names cannot be loaded."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    given = [(name, environ[name]) for name in (*_CA_VARIABLES, "SSL_CERT_DIR") if environ.get(name)]
    if not given:
        context.load_verify_locations(cafile=certifi.where())
        return context
    for name, path in given:
        try:
            if name == "SSL_CERT_DIR":
                context.load_verify_locations(capath=path)
            else:
                context.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or type(exc).__name__
            raise ValueError(f"{name}: cannot load the CA bundle {path!r} ({reason})") from None
    return context


@dataclass(frozen=True)
class _Proxy:
    url: str
    headers: Mapping[str, str] | None  # Proxy-Authorization, when the proxy URL carries credentials


class ProxyConfig:
    """The proxies of the environment, read once: which proxy (if any) a URL goes through."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        saved = {k: v for k, v in environ.items() if k.lower() in ("http_proxy", "https_proxy", "no_proxy")}
        proxies = _environment_proxies(saved)
        self._no_proxy = {k: v for k, v in proxies.items() if k == "no"}
        self._by_scheme: dict[str, _Proxy] = {}
        self.secrets: set[str] = set()
        for scheme in ("http", "https"):
            if scheme in proxies:
                self._by_scheme[scheme] = self._parse(scheme, proxies[scheme])
        self._bypass: dict[str, bool] = {}

    def _parse(self, scheme: str, value: str) -> _Proxy:
        variable = f"{scheme.upper()}_PROXY"
        parts = urlsplit(value if "://" in value else f"http://{value}")
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{variable}: only an http:// proxy is supported (https requests go through it "
                             f"with CONNECT), not {parts.scheme or 'scheme-less'}:// to {parts.hostname or '?'}")
        try:
            port = parts.port or 80
        except ValueError:
            raise ValueError(f"{variable}: invalid port") from None
        headers = None
        if parts.username is not None:
            basic = aiohttp.encode_basic_auth(unquote(parts.username), unquote(parts.password or ""))
            headers = {"Proxy-Authorization": basic}
            self.secrets.update(s for s in (parts.password, basic.removeprefix("Basic ")) if s)
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return _Proxy(f"http://{host}:{port}", headers)

    def for_url(self, scheme: str, host: str) -> _Proxy | None:
        proxy = self._by_scheme.get(scheme)
        if proxy is None:
            return None
        bypass = self._bypass.get(host)
        if bypass is None:
            bypass = self._bypass[host] = bool(self._no_proxy) and bool(
                urllib.request.proxy_bypass_environment(host, self._no_proxy))  # type: ignore[attr-defined]
        return None if bypass else proxy


def _environment_proxies(environ: Mapping[str, str]) -> dict[str, str]:
    """urllib's reading of proxy variables (lower case wins over upper case), over a given mapping."""
    found: dict[str, str] = {}
    for name, value in environ.items():
        key = name.lower()
        if value and key.endswith("_proxy") and (name == key or key[:-6] not in found):
            found[key[:-6]] = value
    return found


class AiohttpWire:
    """One scan's connections: at most `connections` open, keep-alive, each request within `timeout` seconds
    from start to the last body byte (a body dripped slowly is cut off there)."""

    def __init__(self, timeout: float, connections: int, response_bytes: int,
                 environ: Mapping[str, str]) -> None:
        self.response_bytes = response_bytes
        self.proxies = ProxyConfig(environ)
        self._ssl = ssl_context(environ)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._connections = max(1, connections)
        self._session: aiohttp.ClientSession | None = None
        self._origins: dict[str, tuple[_Proxy | None, str]] = {}

    @property
    def secrets(self) -> set[str]:
        return self.proxies.secrets

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._connections, ssl=self._ssl)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
            headers={"User-Agent": USER_AGENT}, auto_decompress=True)
        return self._session

    def _target(self, url: str) -> tuple[URL | str, _Proxy | None, str]:
        """(what aiohttp is given, the proxy, the host for messages) of `url`. A scan sends thousands of
        requests to one origin: its proxy and host are looked up once, and a URL of plain printable ASCII
        (what the scanner builds with `quote`) is passed as already encoded, sparing yarl a re-quoting."""
        scheme_end = url.find("://")
        slash = url.find("/", scheme_end + 3) if scheme_end > 0 else -1
        prefix = url[:slash] if slash > 0 else url
        known = self._origins.get(prefix)
        if known is None:
            parts = urlsplit(url)
            known = self._origins[prefix] = (self.proxies.for_url(parts.scheme, parts.hostname or ""),
                                             parts.hostname or "?")
        target: URL | str = URL(url, encoded=True) if _PLAIN_URL.match(url) else url
        return target, known[0], known[1]

    async def request(self, method: str, url: str, headers: Mapping[str, str]) -> Reply:
        session = self._session or self._open()
        target, proxy, host = self._target(url)
        try:
            async with session.request(method, target, headers=headers, allow_redirects=False,
                                       proxy=proxy.url if proxy else None,
                                       proxy_headers=proxy.headers if proxy else None) as resp:
                content = b"" if method == "HEAD" else await self._body(resp)
                return Reply(resp.status, resp.headers, content)
        except TimeoutError:  # aiohttp's timeouts are asyncio's, the builtin TimeoutError on 3.11
            raise WireError(f"ReadTimeout: no complete answer from {host} within the timeout") from None
        except aiohttp.ClientProxyConnectionError:
            raise WireError(f"ProxyError: cannot connect to the proxy for {host}") from None
        except aiohttp.ClientHttpProxyError as exc:
            raise WireError(f"ProxyError: the proxy for {host} answered {exc.status}") from None
        except aiohttp.ClientConnectorCertificateError:
            raise WireError(f"ConnectError: TLS certificate of {host} not trusted") from None
        except aiohttp.ClientSSLError as exc:
            raise WireError(f"ConnectError: TLS with {host} failed ({type(exc).__name__})") from None
        except aiohttp.ClientConnectorError as exc:
            raise WireError(f"ConnectError: cannot connect to {host} ({exc.strerror or 'refused'})") from None
        except aiohttp.ServerDisconnectedError:
            raise WireError(f"RemoteProtocolError: {host} disconnected without a complete response") from None
        except aiohttp.ClientPayloadError:
            raise WireError(f"RemoteProtocolError: the body from {host} was cut short or badly encoded") from None
        except aiohttp.ClientResponseError as exc:  # malformed status line or headers, oversized headers
            raise WireError(f"RemoteProtocolError: malformed response from {host} ({exc.status or '-'})") from None
        except aiohttp.InvalidURL:
            raise WireError("InvalidURL: the URL cannot be requested") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise WireError(f"{type(exc).__name__}: request to {host} failed") from None

    async def _body(self, resp: aiohttp.ClientResponse) -> bytes:
        """The decompressed body, read in pieces and refused past `response_bytes` (aiohttp inflates a
        compressed body a bounded piece at a time, so a bomb stops here, not in memory)."""
        limit = self.response_bytes
        if resp.content_length is not None and resp.content_length > limit \
                and not resp.headers.get("Content-Encoding"):
            raise ResponseError(f"response body of {resp.content_length} bytes is over the limit of "
                                f"{size_text(limit)}")
        out = bytearray()
        async for piece in resp.content.iter_any():
            out += piece
            if len(out) > limit:
                raise ResponseError(f"response body (decompressed) is over the limit of {size_text(limit)}")
        return bytes(out)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

__all__ = ["USER_AGENT", "AiohttpWire", "ProxyConfig", "Reply", "ResponseError", "WireError", "ssl_context"]
