"""The OCI source against a real docker-registry (and stdlib servers for what it cannot do)."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from oci_stubs import ISSUED, SECRET, Reply, Seeded, StubServer, json_reply, registry_proxy, token_proxy
from registry_guard.catalogue.model import ResourceRef

from audit.sources.oci import (
    BearerChallenge,
    OciInventory,
    StaticToken,
    parse_link_next,
    parse_retry_after,
    parse_www_authenticate,
    scan_oci_registry,
    scan_oci_registry_async,
)
from audit.sources.oci.client import Pacing
from audit.sources.urls import check_url_allowed
from localdev.oci_push import delete_manifest, push_image, seed_model_registry
from localdev.oci_registry import LocalRegistry

StartStub = Callable[[StubServer], StubServer]


def grouped(inv: OciInventory) -> dict[tuple[str, str], tuple[str, ...]]:
    return {(i.package, i.digest or ""): i.tags for i in inv.images}


def test_seeded_images_come_back_grouped_by_digest(seeded_registry: Seeded) -> None:
    inv = scan_oci_registry(seeded_registry.url)
    assert inv.errors == () and inv.complete
    assert grouped(inv) == seeded_registry.expected
    assert inv.repositories == ("models/llm", "models/vision", "team/a/embedder", "team/b/ranker")
    assert {i.repository for i in inv.images} == {ResourceRef("repository", seeded_registry.host)}
    # catalog + one tags/list per repo + one HEAD per tag, nothing else
    assert inv.requests == 1 + 4 + inv.tags == 1 + 4 + 14
    assert inv.to_state().images == inv.images


def test_image_tagged_only_latest(seeded_registry: Seeded) -> None:
    inv = scan_oci_registry(seeded_registry.url, repositories=["models/vision"])
    (image,) = inv.images
    assert image.tags == ("latest",)
    assert image.digest and image.digest.startswith("sha256:")
    assert image.ref.name.endswith(f"models/vision@{image.digest}")


def test_catalog_link_pagination_with_small_n(seeded_registry: Seeded, stub_server: StartStub) -> None:
    proxy = stub_server(registry_proxy(seeded_registry.url))
    inv = scan_oci_registry(proxy.url, page_size=1)
    assert inv.errors == ()
    assert len(inv.repositories) == 4
    # 4 pages with one name each, then an empty last page: the relative Link URLs were followed.
    assert proxy.requests("GET", "/v2/_catalog") == 5
    assert grouped(inv) == seeded_registry.expected


def test_catalog_without_link_falls_back_to_last(stub_server: StartStub) -> None:
    names = [f"r{i}" for i in range(5)]

    def handle(method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/v2/_catalog"):
            query = dict(p.split("=", 1) for p in path.partition("?")[2].split("&") if "=" in p)
            start = names.index(query["last"]) + 1 if "last" in query else 0
            return json_reply({"repositories": names[start:start + int(query.get("n", "100"))]})
        return json_reply({"name": "x", "tags": None})

    stub = stub_server(StubServer(handle))
    inv = scan_oci_registry(stub.url, page_size=2)
    assert inv.repositories == tuple(names) and inv.errors == ()


def test_deleted_repository_with_null_tags_is_empty_not_an_error(registry: LocalRegistry) -> None:
    digest = push_image(registry.url, "gone/model", ["v1", "v2"], content_seed="gone")
    delete_manifest(registry.url, "gone/model", digest)
    assert httpx.get(f"{registry.url}/v2/gone/model/tags/list").json()["tags"] is None
    inv = scan_oci_registry(registry.url, repositories=["gone/model"])
    assert inv.images == () and inv.errors == ()


def test_refuses_plain_http_to_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="only https"):
        scan_oci_registry("http://registry.example.com")
    with pytest.raises(ValueError, match="only https"):
        scan_oci_registry("http://10.0.0.1:5000")
    for ok in ("https://gcr.io", "http://127.0.0.2:1", "http://localhost:5000", "http://[::1]:5000"):
        check_url_allowed(ok)


def test_broken_repositories_become_errors_while_others_are_read(
        seeded_registry: Seeded, stub_server: StartStub) -> None:
    def hook(method: str, path: str) -> Reply | None:
        if path.startswith("/v2/models/llm/tags/list"):
            return 200, {"Content-Type": "application/json"}, b'{"name": "models/llm", "tags": ["v1",'
        if path.startswith("/v2/team/b/ranker/"):
            return json_reply({"errors": [{"code": "UNKNOWN"}]}, 500)
        if path.startswith("/v2/team/a/embedder/tags/list"):
            return 200, {"Content-Type": "text/html"}, b"<html>login</html>"
        if method == "HEAD" and path == "/v2/models/vision/manifests/latest":
            return 200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, b""  # no digest
        return None

    proxy = stub_server(registry_proxy(seeded_registry.url, hook))
    inv = scan_oci_registry(proxy.url, max_retries=2, backoff_base=0.01)
    host = proxy.url.removeprefix("http://")
    by_target = {e.target: e.message for e in inv.errors}
    assert set(by_target) == {f"{host}/models/llm", f"{host}/team/b/ranker", f"{host}/team/a/embedder",
                              f"{host}/models/vision:latest"}
    assert "not valid JSON" in by_target[f"{host}/models/llm"]
    assert "HTTP 500" in by_target[f"{host}/team/b/ranker"]
    assert "content type 'text/html'" in by_target[f"{host}/team/a/embedder"]
    assert "Docker-Content-Digest" in by_target[f"{host}/models/vision:latest"]
    assert not inv.complete
    assert inv.images == ()  # every repository here was broken in one way; none were guessed
    assert proxy.requests("GET", "/v2/team/b/ranker/tags/list") == 3  # first try + 2 bounded retries


def test_429_with_retry_after_is_retried_and_result_equals_fault_free(
        seeded_registry: Seeded, stub_server: StartStub) -> None:
    clean = scan_oci_registry(seeded_registry.url)
    lock = threading.Lock()
    throttled: set[str] = set()

    def hook(method: str, path: str) -> Reply | None:
        # First hit of each tags/list and of one HEAD is throttled, once.
        if "/tags/list" in path or path.endswith("/manifests/stable"):
            with lock:
                if path not in throttled:
                    throttled.add(path)
                    return json_reply({"errors": [{"code": "TOOMANYREQUESTS"}]}, 429, **{"Retry-After": "1"})
        return None

    proxy = stub_server(registry_proxy(seeded_registry.url, hook))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    inv = asyncio.run(scan_oci_registry_async(proxy.url, backoff_base=0.01,
                                              pacing=Pacing(sleep=sleep, random=random.Random(0))))
    assert waits == [1.0] * 5  # Retry-After was honoured for each throttled request, not the 10 ms backoff
    assert inv.errors == ()
    assert grouped(inv) == grouped(clean)
    assert inv.requests == clean.requests + 5  # 4 tags/list + 1 HEAD were sent twice


def test_connection_errors_are_bounded_and_recorded() -> None:
    with LocalRegistry() as reg:
        url = reg.url
    inv = scan_oci_registry(url, repositories=["models/llm"], max_retries=1, backoff_base=0.01, timeout=1.0)
    assert [e.target for e in inv.errors] == [f"{url.removeprefix('http://')}/models/llm"]
    assert "ConnectError" in inv.errors[0].message and inv.requests == 2


GOOGLE_DIGESTS = ["sha256:" + c * 64 for c in "abc"]


def google_listing(method: str, path: str, headers: dict[str, str]) -> Reply:
    """The real shape of gcr.io / Artifact Registry tags/list: a `manifest` map, GCR's string
    times and AR's int times, plus `child` repositories."""
    if path.startswith("/v2/_catalog"):
        return json_reply({"repositories": ["proj/llm"]})
    if path.startswith("/v2/proj/llm/tags/list"):
        return json_reply({
            "name": "proj/llm", "child": ["sub"], "tags": ["latest", "v1", "v2"],
            "manifest": {
                GOOGLE_DIGESTS[0]: {"imageSizeBytes": "1048576", "layerId": "", "tag": ["v1"],
                                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                    "timeCreatedMs": "1700000000000", "timeUploadedMs": "1700000001000"},
                GOOGLE_DIGESTS[1]: {"imageSizeBytes": 2048, "tag": ["latest", "v2"],
                                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                    "timeUploadedMs": 1710000000000},
                GOOGLE_DIGESTS[2]: {"imageSizeBytes": "10", "tag": [], "timeCreatedMs": "0",
                                    "timeUploadedMs": "1600000000000"},
            },
        })
    if path.startswith("/v2/proj/llm/sub/tags/list"):
        return json_reply({"name": "proj/llm/sub", "child": [], "tags": [], "manifest": {}})
    return json_reply({"errors": [{"code": "NAME_UNKNOWN"}]}, 404)


def test_google_manifest_map_gives_digests_without_head_requests(stub_server: StartStub) -> None:
    stub = stub_server(StubServer(google_listing))
    inv = scan_oci_registry(stub.url)
    assert inv.errors == ()
    assert stub.requests("HEAD") == 0
    assert inv.requests == 3  # catalog, tags/list, the child's tags/list
    assert inv.repositories == ("proj/llm", "proj/llm/sub")
    images = {i.digest: i for i in inv.images}
    assert images[GOOGLE_DIGESTS[0]].tags == ("v1",)
    assert images[GOOGLE_DIGESTS[0]].size_bytes == 1048576
    assert images[GOOGLE_DIGESTS[0]].uploaded == datetime.fromtimestamp(1700000001, tz=UTC)
    assert images[GOOGLE_DIGESTS[1]].tags == ("latest", "v2")
    assert images[GOOGLE_DIGESTS[1]].uploaded == datetime.fromtimestamp(1710000000, tz=UTC)
    assert images[GOOGLE_DIGESTS[2]].tags == ()  # untagged images are visible too


def test_google_manifest_map_with_bad_entry_is_an_error(stub_server: StartStub) -> None:
    def handle(method: str, path: str, headers: dict[str, str]) -> Reply:
        return json_reply({"name": "p/x", "tags": ["v1"], "manifest": {"not-a-digest": {"tag": ["v1"]}}})

    stub = stub_server(StubServer(handle))
    inv = scan_oci_registry(stub.url, repositories=["p/x"])
    assert [e.target for e in inv.errors] == [f"{stub.url.removeprefix('http://')}/p/x"]
    assert inv.images == ()


def test_bearer_token_auth_and_token_never_leaks(seeded_registry: Seeded, stub_server: StartStub) -> None:
    proxy = stub_server(token_proxy(seeded_registry.url))
    provider = StaticToken(SECRET)
    inv = scan_oci_registry(proxy.url, token_provider=provider)
    assert inv.errors == ()
    assert grouped(inv) == seeded_registry.expected
    # one token per scope (catalog + 4 repositories), cached: not one per request
    assert proxy.requests("GET", "/token") == 5
    assert SECRET not in repr(provider)
    for text in (repr(inv), str(inv.errors)):
        assert SECRET not in text and ISSUED not in text

    bad = scan_oci_registry(proxy.url, token_provider=StaticToken("ya29.wrong"), repositories=["models/llm"])
    assert len(bad.errors) == 1 and "token endpoint" in bad.errors[0].message
    assert "ya29.wrong" not in repr(bad)


def test_token_provider_failure_is_recorded_without_its_message(
        seeded_registry: Seeded, stub_server: StartStub) -> None:
    proxy = stub_server(token_proxy(seeded_registry.url))

    def broken() -> str:
        raise RuntimeError(f"cannot refresh {SECRET}")

    inv = scan_oci_registry(proxy.url, token_provider=broken, repositories=["models/llm"])
    assert len(inv.errors) == 1 and "token provider failed: RuntimeError" in inv.errors[0].message
    assert SECRET not in repr(inv)


def test_plain_http_token_realm_off_loopback_is_refused(stub_server: StartStub) -> None:
    def handle(method: str, path: str, headers: dict[str, str]) -> Reply:
        return json_reply({}, 401, **{"WWW-Authenticate": 'Bearer realm="http://auth.example.com/token"'})

    stub = stub_server(StubServer(handle))
    inv = scan_oci_registry(stub.url, repositories=["a"], token_provider=StaticToken(SECRET))
    assert "only https" in inv.errors[0].message
    assert stub.requests("GET") == 1  # the secret was never sent anywhere


def test_shards_partition_the_repositories(seeded_registry: Seeded) -> None:
    shards = [scan_oci_registry(seeded_registry.url, shard=(i, 3)) for i in range(3)]
    names = [r for s in shards for r in s.repositories]
    assert sorted(names) == sorted({r for r, _ in seeded_registry.expected})
    merged = {k: v for s in shards for k, v in grouped(s).items()}
    assert merged == seeded_registry.expected


def test_rate_limit_spaces_requests(seeded_registry: Seeded) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    # A clock that stands still: each request's wait is exactly how far its slot lies after the first.
    pacing = Pacing(sleep=sleep, monotonic=lambda: 100.0, random=random.Random(0))
    inv = asyncio.run(scan_oci_registry_async(seeded_registry.url, repositories=["team/b/ranker"], rate_limit=20,
                                              pacing=pacing))
    assert inv.requests == 5
    assert sorted(waits) == pytest.approx([1 / 20, 2 / 20, 3 / 20, 4 / 20])


@pytest.mark.slow
def test_seed_and_scan_ten_by_twenty() -> None:
    with LocalRegistry() as reg:
        seeded = seed_model_registry(reg.url, 10, 20, tags_per_image=2)
        inv = scan_oci_registry(reg.url, concurrency=8)
    assert inv.errors == () and inv.tags == 200 and len(inv.images) == 100
    expected = {(repo, d) for repo, tags in seeded.items() for d in tags.values()}
    assert {(i.package, i.digest) for i in inv.images} == expected


# --- pure parsers --------------------------------------------------------------------------

def test_parse_www_authenticate_examples() -> None:
    assert parse_www_authenticate('Bearer realm="https://gcr.io/v2/token",service="gcr.io",'
                                  'scope="repository:p/llm:pull,push"') == BearerChallenge(
        "https://gcr.io/v2/token", "gcr.io", "repository:p/llm:pull,push")
    assert parse_www_authenticate('bearer realm=https://x/t') == BearerChallenge("https://x/t")
    assert parse_www_authenticate('Basic realm="x"') is None
    assert parse_www_authenticate("Bearer") is None


def test_parse_link_next_examples() -> None:
    assert parse_link_next('</v2/_catalog?last=a%2Fb&n=1>; rel="next"') == "/v2/_catalog?last=a%2Fb&n=1"
    assert parse_link_next('<https://x/p1>; rel="prev", <https://x/p3>; rel=next') == "https://x/p3"
    assert parse_link_next("") is None


def test_parse_retry_after_examples() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@given(st.text())
def test_header_parsers_never_raise(text: str) -> None:
    parse_www_authenticate(text)
    parse_link_next(text)
    parse_retry_after(text)


_token = st.text(st.characters(codec="ascii", exclude_characters='"\\\x00\r\n'), min_size=1)


@given(_token, _token, _token)
def test_www_authenticate_round_trip(realm: str, service: str, scope: str) -> None:
    header = f'Bearer realm="{realm}",service="{service}",scope="{scope}"'
    assert parse_www_authenticate(header) == BearerChallenge(realm, service, scope)


@given(st.text(st.characters(codec="ascii", exclude_characters="<>\x00"), min_size=1))
def test_link_round_trip(target: str) -> None:
    assert parse_link_next(f'<{target}>; rel="next"') == target.strip()


def test_manifest_json_is_what_we_pushed(registry: LocalRegistry) -> None:
    digest = push_image(registry.url, "check/manifest", ["a"], content_seed="m")
    resp = httpx.get(f"{registry.url}/v2/check/manifest/manifests/{digest}",
                     headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    assert resp.headers["Docker-Content-Digest"] == digest
    assert json.loads(resp.content)["annotations"] == {"dev.registry-guard.seed": "m"}
