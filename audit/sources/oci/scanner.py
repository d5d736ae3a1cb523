"""The registry walk: catalog, tags/list and a HEAD per tag, grouped by manifest digest into an inventory."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote, urljoin, urlsplit

import httpx
from registry_guard.catalogue.model import Image, RegistryState, ResourceRef

from audit.errors import ScanError
from audit.sharding import in_shard
from audit.sources.oci.client import FetchError, HttpClient, Pacing
from audit.sources.oci.headers import parse_link_next
from audit.sources.oci.tokens import TokenProvider
from audit.sources.oci.wire import HttpxWire, LeanWire, Reply
from audit.sources.urls import check_url_allowed

SOURCE: Final = "oci"

MANIFEST_TYPES: Final = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
# distribution answers a HEAD without this list with 404 for OCI manifests.
ACCEPT_MANIFESTS: Final = ", ".join(MANIFEST_TYPES)
_DIGEST_RE: Final = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_MAX_PAGES: Final = 100_000


@dataclass(frozen=True)
class OciInventory:
    """What one scan of one registry saw. `complete` is False when anything was not read."""

    registry: str  # host[:port], the ResourceRef name of every image's repository
    images: tuple[Image, ...]
    repositories: tuple[str, ...]
    errors: tuple[ScanError, ...]
    requests: int
    tags: int = 0
    # What was not read completely, as the history rules name it: the registry (its catalog failed) or
    # `registry/repository` (its tag list, or any one of its tags, failed). Absences there prove nothing.
    unread: frozenset[str] = frozenset()

    @property
    def complete(self) -> bool:
        return not self.errors

    def to_state(self) -> RegistryState:
        return RegistryState(images=self.images)


def _describe(resp: Reply) -> str:
    """Status plus the registry's error codes (not the raw body: it could echo anything)."""
    codes = ""
    try:
        body = resp.json()
        if isinstance(body, dict) and isinstance(body.get("errors"), list):
            codes = ",".join(str(e.get("code")) for e in body["errors"] if isinstance(e, dict))[:200]
    except Exception:
        codes = ""
    return f"HTTP {resp.status_code}" + (f" {codes}" if codes else "")


def _json_object(resp: Reply, what: str) -> dict[str, Any]:
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise FetchError(f"{what}: expected JSON, got content type {ctype or 'none'!r}")
    try:
        body = resp.json()
    except ValueError:
        raise FetchError(f"{what}: response is not valid JSON") from None
    if not isinstance(body, dict):
        raise FetchError(f"{what}: expected a JSON object, got {type(body).__name__}")
    return body


def _ms_to_datetime(value: object) -> datetime | None:
    """GCR sends times as strings of ms, Artifact Registry as ints."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        ms = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise FetchError(f"bad time value {str(value)[:40]!r}") from None
    if ms <= 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise FetchError(f"time value out of range {ms}") from None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        raise FetchError(f"bad size value {str(value)[:40]!r}") from None


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
        raise FetchError("`manifest` is not a JSON object")
    out = []
    for digest, info in raw.items():
        if not isinstance(digest, str) or not _DIGEST_RE.match(digest) or not isinstance(info, dict):
            raise FetchError(f"bad `manifest` entry {str(digest)[:80]!r}")
        tags = info.get("tag") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise FetchError(f"bad tag list for {digest}")
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
    def __init__(self, base_url: str, http: HttpClient, page_size: int) -> None:
        self.base = base_url.rstrip("/")
        self.host = urlsplit(self.base).netloc
        self.http = http
        self.page_size = page_size
        self.errors: list[ScanError] = []
        self.unread: set[str] = set()
        self.images: list[Image] = []
        self.tag_count = 0
        self._heads: asyncio.Queue[tuple[_HeadBatch, int, str]] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._manifests_url: dict[str, str] = {}  # repo -> URL prefix of its manifests

    def error(self, target: str, message: str, unread: str) -> None:
        self.errors.append(ScanError(SOURCE, target, self.http.redact(message)))
        self.unread.add(unread)

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
            except FetchError as exc:
                self.error(f"{batch.target}:{tag}", str(exc), unread=batch.target)
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
                raise FetchError(f"{what}: pagination loops at {urlsplit(url).path}?{urlsplit(url).query}")
            seen.add(url)
            try:
                check_url_allowed(url)  # a Link header must not lead us off to plain http
            except ValueError as exc:
                raise FetchError(f"{what}: next page {exc}") from None
            resp = await self.http.request("GET", url, headers={"Accept": "application/json"},
                                           scope_hint=scope)
            if resp.status_code != 200:
                raise FetchError(f"{what}: {_describe(resp)}")
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
                raise FetchError("catalog: `repositories` is not a list of names")
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
                raise FetchError("tags/list: `tags` is not a list of strings")
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
            raise FetchError(f"HEAD manifest: {_describe(resp)}")
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype not in MANIFEST_TYPES:
            raise FetchError(f"HEAD manifest: unexpected content type {ctype or 'none'!r}")
        digest = str(resp.headers.get("Docker-Content-Digest", "")).strip()
        if not _DIGEST_RE.match(digest):
            raise FetchError("HEAD manifest: missing or malformed Docker-Content-Digest header")
        return digest

    async def scan_repo(self, repo: str) -> tuple[str, ...]:
        """Read one repository; returns Google `child` repositories to visit too."""
        target = f"{self.host}/{repo}"
        try:
            listing = await self.tag_listing(repo)
        except FetchError as exc:
            self.error(target, str(exc), unread=target)
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
    backoff_base: float = 0.2, transport: httpx.AsyncBaseTransport | None = None, pacing: Pacing | None = None,
) -> OciInventory:
    """Async form of `scan_oci_registry`; `transport` replaces the built-in lean HTTP/1.1 transport
    (e.g. to wrap it, or httpx's own, with latency in a benchmark); `pacing` replaces the clock, sleep and
    random source of retries and the rate limit."""
    check_url_allowed(url)
    if shard is not None and not (shard[1] >= 1 and 0 <= shard[0] < shard[1]):
        raise ValueError("shard must be (index, count) with 0 <= index < count")
    if concurrency < 1 or max_retries < 0 or page_size < 1 or (rate_limit is not None and rate_limit <= 0):
        raise ValueError("concurrency and page_size must be >= 1, max_retries >= 0, rate_limit > 0")
    async with contextlib.AsyncExitStack() as stack:
        wire: LeanWire | HttpxWire
        if transport is None:
            wire = LeanWire(timeout)
            stack.push_async_callback(wire.aclose)
        else:
            limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            wire = HttpxWire(await stack.enter_async_context(httpx.AsyncClient(
                timeout=timeout, limits=limits, follow_redirects=False, transport=transport, trust_env=False)))
        http = HttpClient(wire, concurrency, max_retries, rate_limit, token_provider, backoff_base,
                          pacing=pacing or Pacing())
        scanner = _Scanner(url, http, page_size)
        scanner.start_workers(concurrency)
        stack.push_async_callback(scanner.stop_workers)  # before the wire closes (callbacks run LIFO)
        if repositories is None:
            try:
                repos = await scanner.catalog()
            except FetchError as exc:
                scanner.error(f"{scanner.host}/_catalog", str(exc), unread=scanner.host)
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
        unread=frozenset(scanner.unread),
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
