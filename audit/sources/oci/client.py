"""The HTTP layer the registry walk sends through: concurrency, rate limit, retries with backoff, bearer
auth, request counting and the scan's time and byte limits, over the wire (`wire.py`)."""

from __future__ import annotations

import asyncio
import base64
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from audit.sources.oci.headers import BearerChallenge, parse_retry_after, parse_www_authenticate
from audit.sources.oci.limits import Limits, size_text
from audit.sources.oci.tokens import GOOGLE_USERNAME, TokenProvider, host_key, may_send_credentials
from audit.sources.oci.wire import Reply, ResponseError, WireError
from audit.sources.urls import check_url_allowed, with_query

_RETRY_STATUS: Final = frozenset({429, 500, 502, 503, 504})
# A bearer token goes into a header as it is: only visible ASCII (RFC 6750's b64token is narrower still).
_TOKEN_RE: Final = re.compile(r"^[\x21-\x7e]+$")


class Wire(Protocol):
    async def request(self, method: str, url: str, headers: Mapping[str, str]) -> Reply: ...


class FetchError(Exception):
    """One request that failed for good; the message is safe to show (no credentials)."""


class ScanTimeLimit(FetchError):
    """The scan's time limit passed: nothing more is requested, and what was not read is said once per target."""


@dataclass(frozen=True)
class Pacing:
    """Where waiting gets its time and its chance: retries, backoff jitter and the rate limit. Tests pass
    their own, so backoff and deadlines are checked exactly and never depend on the machine's speed."""

    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    monotonic: Callable[[], float] = time.monotonic
    random: random.Random = field(default_factory=random.Random)


@dataclass
class HttpClient:
    """One scan's requests: every one counted, at most `concurrency` at once, at most `rate_limit` per
    second, retried with backoff on 429/5xx and transport errors, with bearer tokens fetched once per scope."""

    client: Wire
    concurrency: int
    max_retries: int
    rate_limit: float | None
    token_provider: TokenProvider | None = field(repr=False, default=None)
    backoff_base: float = 0.2
    backoff_cap: float = 10.0
    pacing: Pacing = field(default_factory=Pacing)
    limits: Limits = field(default_factory=Limits)
    registry_url: str = ""  # where credentials may go (with `token_realms`): see tokens.may_send_credentials
    token_realms: Sequence[str] = ()
    requests: int = 0
    bytes_read: int = 0
    deadline: float = float("inf")  # pacing.monotonic() time at which the scan's time limit passes
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
        self._secrets.update(getattr(self.client, "secrets", ()))

    def start_clock(self) -> None:
        self.deadline = self.pacing.monotonic() + self.limits.scan_seconds

    def check_time(self) -> None:
        if self.pacing.monotonic() >= self.deadline:
            raise ScanTimeLimit(f"the scan's time limit of {self.limits.scan_seconds:g} s passed before it was read")

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    async def _throttle(self) -> None:
        if not self.rate_limit:
            return
        async with self._rate_lock:
            now = self.pacing.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + 1.0 / self.rate_limit
        if wait > 0:
            await self.pacing.sleep(wait)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            if retry_after > self.limits.retry_after_seconds:
                raise FetchError(f"the registry asked to retry after {_seconds(retry_after)} (Retry-After), "
                                 f"longer than the limit of {self.limits.retry_after_seconds:g} s")
            return retry_after
        delay = min(self.backoff_cap, self.backoff_base * (2 ** attempt))
        return float(delay / 2 + self.pacing.random.uniform(0, delay / 2))  # jitter: many tasks' retries spread out

    async def _send_once(self, method: str, url: str, headers: Mapping[str, str]) -> Reply:
        if self.rate_limit:
            await self._throttle()
        async with self._sem:
            self.check_time()
            self.requests += 1
            try:
                reply = await self.client.request(method, url, headers)
            except ResponseError as exc:
                raise FetchError(str(exc)) from None
        self.bytes_read += len(reply.content)
        if self.bytes_read > self.limits.scan_bytes:
            raise FetchError(f"the scan read more than its limit of {size_text(self.limits.scan_bytes)} "
                             "of response bodies")
        return reply

    async def _wait(self, seconds: float) -> None:
        if self.pacing.monotonic() + seconds >= self.deadline:
            raise ScanTimeLimit(f"the scan's time limit of {self.limits.scan_seconds:g} s would pass while "
                                "waiting to retry")
        await self.pacing.sleep(seconds)

    async def _send(self, method: str, url: str, headers: Mapping[str, str]) -> Reply:
        """Send with bounded retries on 429/5xx/connection errors/timeouts."""
        attempt = 0
        while True:
            try:
                resp = await self._send_once(method, url, headers)
            except WireError as exc:
                if attempt >= self.max_retries:
                    raise FetchError(f"{self.redact(str(exc))} (after {attempt + 1} attempts)") from None
                await self._wait(self._backoff(attempt, None))
                attempt += 1
                continue
            if resp.status_code in _RETRY_STATUS and attempt < self.max_retries:
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                await self._wait(self._backoff(attempt, retry_after))
                attempt += 1
                continue
            return resp

    async def _token(self, challenge: BearerChallenge) -> str:
        check_url_allowed(challenge.realm)  # never send a Google token over plain http
        if self.token_provider is not None and not may_send_credentials(
                challenge.realm, self.registry_url, self.token_realms):
            raise FetchError(f"the registry sends its credentials to the token endpoint on {_host(challenge.realm)}, "
                             "which is not its own host: allow that host with --registry-token-realm "
                             "if it is the registry's token service")
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
                    raise FetchError(f"token provider failed: {type(exc).__name__}") from None
                self._secrets.add(secret)
                basic = base64.b64encode(f"{GOOGLE_USERNAME}:{secret}".encode()).decode()
                self._secrets.add(basic)
                headers["Authorization"] = f"Basic {basic}"
            url = with_query(challenge.realm, params)
            resp = await self._send("GET", url, headers)
            if resp.status_code != 200:
                raise FetchError(f"token endpoint {_host(challenge.realm)} answered "
                                  f"{resp.status_code} for scope {challenge.scope or '-'}")
            try:
                body = resp.json()
                token = body.get("token") or body.get("access_token")
            except (ValueError, AttributeError):
                token = None
            if not isinstance(token, str) or not token:
                raise FetchError(f"token endpoint {_host(challenge.realm)} returned no token")
            if not _TOKEN_RE.match(token):
                raise FetchError(f"token endpoint {_host(challenge.realm)} returned a token that is "
                                 "not printable ASCII (it cannot go into a header)")
            self._secrets.add(token)
            self._tokens[key] = token
            return token

    async def send_anonymous(self, method: str, url: str) -> Reply:
        """A request that carries no credentials, retried like any other: for a blob a registry redirects
        to its storage service on another host (the URL it gives carries its own authorisation)."""
        return await self._send(method, url, {})

    async def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                      scope_hint: str | None = None) -> Reply:
        """One logical request; on 401 with a Bearer challenge, fetch a token and retry once.
        `scope_hint` (e.g. `repository:a/b:pull`) lets later requests send the cached token up front."""
        base = dict(headers or {})
        send = dict(base)
        if scope_hint and scope_hint in self._by_hint:
            send["Authorization"] = f"Bearer {self._by_hint[scope_hint]}"
        resp = await self._send(method, url, send)
        if resp.status_code != 401:
            return resp
        challenge = next((c for c in map(parse_www_authenticate, resp.header_values("WWW-Authenticate"))
                          if c is not None), None)
        if challenge is None:
            return resp
        try:
            token = await self._token(challenge)
        except ValueError as exc:
            raise FetchError(str(exc)) from None
        if scope_hint:
            self._by_hint[scope_hint] = token
        send = dict(base)
        send["Authorization"] = f"Bearer {token}"
        return await self._send(method, url, send)


def _host(url: str) -> str:
    """`host:port` of a URL, for messages (never its user info), shown escaped."""
    host, port = host_key(url)
    return repr(f"{host}:{port}"[:120])


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value < 1e15 else "an unbounded time"

