"""Hostile registries (localdev/hostile_registry.py, real servers on 127.0.0.1): credentials go only where they
belong, pages stay on the registry's origin, and whatever a registry sends, the scan stays bounded in memory
and time and says what it could not read (exit 3) instead of crashing. Limits and clocks are injected where a
test would otherwise depend on the machine's speed."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import REPO_ROOT, CliRun, audit_env, run_cli

from audit.sources.oci import Limits, OciInventory, StaticToken, scan_oci_registry_async
from audit.sources.oci.client import Pacing
from audit.sources.oci.tokens import may_send_credentials
from localdev.hostile_registry import (
    Answer,
    HostileRegistry,
    Request,
    bearer,
    collector,
    endless_tags,
    gzip_bomb,
    gzip_bomb_body,
    json_answer,
    link_to,
    nested_json,
    plain,
    retry_after,
    slow_clock,
    tags_pages,
)
from localdev.peak_rss import run_measured

SECRET = "static-registry-secret-0123456789abcdef"
BASIC = base64.b64encode(f"oauth2accesstoken:{SECRET}".encode()).decode()


@pytest.fixture
def attacker() -> Iterator[HostileRegistry]:
    with HostileRegistry(collector()) as server:
        yield server


def _scan(url: str, **kwargs: object) -> OciInventory:
    return asyncio.run(scan_oci_registry_async(url, environ={}, max_retries=0, timeout=5, **kwargs))  # type: ignore[arg-type]


def _cli(url: str, out: Path, *extra: str, env: dict[str, str] | None = None) -> CliRun:
    run = run_cli(["scan", "--registry", url, "--timeout", "5", "--quiet", *extra], out,
                  env=env or audit_env({"REGISTRY_TOKEN": SECRET}))
    run.assert_clean_exit()
    return run


def _messages(inventory: OciInventory) -> str:
    return "\n".join(e.message for e in inventory.errors)


# --- 1. credentials go only to the registry's own host (or an allowed realm) -------------------------------

def test_a_foreign_token_realm_never_gets_the_token(attacker: HostileRegistry, tmp_path: Path) -> None:
    with HostileRegistry(bearer(plain(), f"{attacker.url}/token")) as registry:
        run = _cli(registry.url, tmp_path, "--registry-token-env", "REGISTRY_TOKEN")
    assert attacker.requests == ()  # not the token, not even a request
    assert run.rc == 3 and run.report["complete"] is False
    (error,) = run.report["errors"]
    assert "not its own host" in error["message"] and "--registry-token-realm" in error["message"]
    assert SECRET not in run.stdout + run.stderr


def test_an_allowed_token_realm_gets_the_token(tmp_path: Path) -> None:
    def token_service(request: Request) -> Answer:
        if request.header("Authorization") != f"Basic {BASIC}":
            return json_answer({"errors": [{"code": "DENIED"}]}, 401)
        return json_answer({"token": "issued-registry-token"})

    with HostileRegistry(bearer(plain(), "http://unused/token", token_answer=token_service)) as realm, \
            HostileRegistry(bearer(plain(), f"{realm.url}/token")) as registry:
        refused = _cli(registry.url, tmp_path / "refused", "--registry-token-env", "REGISTRY_TOKEN")
        allowed = _cli(registry.url, tmp_path / "allowed", "--registry-token-env", "REGISTRY_TOKEN",
                       "--registry-token-realm", realm.host)
    assert refused.rc == 3
    assert allowed.report["complete"] is True, allowed.report["errors"]
    assert [r.header("Authorization") for r in realm.matching("/token")] == [f"Basic {BASIC}"]


def test_without_credentials_a_foreign_realm_is_asked_anonymously() -> None:
    """Docker Hub's shape (auth.docker.io beside registry-1.docker.io): nothing secret to keep, so the scan
    goes on; the realm sees no Authorization header."""
    with HostileRegistry(lambda r: json_answer({"token": "issued-registry-token"})) as realm, \
            HostileRegistry(bearer(plain(), f"{realm.url}/token")) as registry:
        inventory = _scan(registry.url)
    assert inventory.complete, inventory.errors
    assert realm.requests and all(r.header("Authorization") is None for r in realm.requests)


def test_with_credentials_a_same_host_realm_gets_them() -> None:
    def token_service(request: Request) -> Answer:
        ok = request.header("Authorization") == f"Basic {BASIC}"
        return json_answer({"token": "issued-registry-token"} if ok else {}, 200 if ok else 401)

    with HostileRegistry(plain()) as registry:
        registry.handler = bearer(plain(), f"{registry.url}/token", token_answer=token_service)
        inventory = _scan(registry.url, token_provider=StaticToken(SECRET))
    assert inventory.complete, inventory.errors


@pytest.mark.parametrize(("realm", "registry", "allowed", "expected"), [
    ("https://gcr.io/v2/token", "https://gcr.io", (), True),
    ("https://us.gcr.io/v2/token", "https://us.gcr.io", (), True),
    ("https://gcr.io/v2/token", "https://eu.gcr.io", (), True),  # a Google registry's own token service
    ("https://us-docker.pkg.dev/v2/token", "https://us-central1-docker.pkg.dev", (), True),
    ("https://gcr.io/other", "https://eu.gcr.io", (), False),  # not the token endpoint
    ("https://evil.example/v2/token", "https://gcr.io", (), False),
    ("https://gcr.io/v2/token", "https://registry.example.com", (), False),  # not a Google registry
    ("https://auth.example.com/token", "https://registry.example.com", ("auth.example.com",), True),
    ("https://auth.example.com:8443/token", "https://registry.example.com", ("auth.example.com",), True),
    ("https://auth.example.com:8443/token", "https://registry.example.com", ("auth.example.com:443",), False),
    ("https://registry.example.com:444/token", "https://registry.example.com", (), False),  # another port
    ("https://REGISTRY.example.com/token", "https://registry.example.com", (), True),
])
def test_where_credentials_may_go(realm: str, registry: str, allowed: tuple[str, ...], expected: bool) -> None:
    assert may_send_credentials(realm, registry, allowed) is expected


# --- 2. pages are followed only on the registry's origin ---------------------------------------------------

def test_a_next_page_on_another_origin_is_a_read_error(attacker: HostileRegistry, tmp_path: Path) -> None:
    registry = HostileRegistry(plain())
    with registry:
        issued = "issued-registry-token"
        registry.handler = bearer(link_to(f"{attacker.url}/v2/_catalog?n=100&last=models%2Fllm"),
                                  f"{registry.url}/token", issued=issued)
        run = _cli(registry.url, tmp_path, "--registry-token-env", "REGISTRY_TOKEN")
    assert attacker.requests == ()
    assert run.rc == 3 and run.report["complete"] is False
    (error,) = run.report["errors"]
    assert error["target"].endswith("/_catalog") and "another origin" in error["message"]
    assert "stolen/repo" not in (tmp_path / "registry-guard-scan.json").read_text()


@pytest.mark.parametrize("next_url", ["https://127.0.0.1:{port}/v2/_catalog?last=a",  # another scheme
                                      "http://localhost:{port}/v2/_catalog?last=a",  # another host name
                                      "http://127.0.0.1:1/v2/_catalog?last=a"])  # another port
def test_every_other_origin_is_refused(next_url: str) -> None:
    with HostileRegistry(plain()) as registry:
        registry.handler = link_to(next_url.format(port=registry.port))
        inventory = _scan(registry.url)
        assert len(registry.matching("/_catalog")) == 1
    assert "another origin" in _messages(inventory) and inventory.images == ()


def test_a_relative_next_page_on_the_same_origin_is_followed() -> None:
    with HostileRegistry(tags_pages(3, page_size=2)) as registry:
        inventory = _scan(registry.url)
    assert inventory.complete and inventory.tags == 6


# --- 3. user info in --registry ------------------------------------------------------------------------------

@pytest.mark.parametrize("userinfo", ["robot:s3cret-password-xyz@", "s3cret-password-xyz@",
                                      "robot:s3cret-password-xyz:x@"])
def test_a_registry_url_with_credentials_is_refused(userinfo: str, tmp_path: Path) -> None:
    with HostileRegistry(plain()) as registry:
        run = _cli(f"http://{userinfo}{registry.host}", tmp_path / "out", "--format", "json")
        assert registry.requests == ()
    assert run.rc == 2
    assert run.stdout == "" and len(run.stderr.strip().splitlines()) == 1
    assert "credentials" in run.stderr and "s3cret-password-xyz" not in run.stderr
    assert list((tmp_path / "out").iterdir()) == []


# --- 9. a gzip bomb ------------------------------------------------------------------------------------------

def test_a_gzip_bomb_is_cut_off_and_the_scan_process_stays_small(tmp_path: Path) -> None:
    """2 MB of gzip that inflate to 2 GiB: the scan names the limit, exit 3, and its peak memory stays small."""
    body = gzip_bomb_body()
    assert len(body) < 3 * 1024 * 1024
    out = tmp_path / "out"
    out.mkdir()
    with HostileRegistry(gzip_bomb(body)) as registry, (tmp_path / "stdout").open("w+") as stdout, \
            (tmp_path / "stderr").open("w+") as stderr:
        # Through the launcher: the scan's own peak, not the test runner's carried across fork and exec.
        usage = run_measured([sys.executable, "-m", "audit", "scan", "--registry", registry.url, "--quiet",
                              "--output", str(out)], cwd=REPO_ROOT, env=audit_env(), stdout=stdout,
                             stderr=stderr, timeout=120)
        stdout.seek(0)
        stderr.seek(0)
        run = CliRun(usage.returncode, stdout.read(), stderr.read(), out)
    run.assert_clean_exit()
    assert run.rc == 3
    (error,) = run.report["errors"]
    assert "over the limit of 32 MiB" in error["message"]
    assert usage.peak_rss_kib < 400 * 1024, f"peak RSS {usage.peak_rss_kib // 1024} MB"


# --- 10. nested JSON, odd tokens, endless pages, slow pages, Retry-After -------------------------------------

def test_deeply_nested_json_is_a_read_error() -> None:
    with HostileRegistry(nested_json(100_000)) as registry:
        inventory = _scan(registry.url)
    assert not inventory.complete and "nested too deeply" in _messages(inventory)


@pytest.mark.parametrize("token", ["tökén-€-registry", "line\r\nX-Injected: 1", "with space", "\x00"])
def test_a_token_that_cannot_go_into_a_header_is_a_read_error(token: str) -> None:
    registry = HostileRegistry(plain())
    with registry:
        registry.handler = bearer(plain(), f"{registry.url}/token",
                                  token_answer=lambda r: json_answer({"token": token}))
        inventory = _scan(registry.url)
        assert not any("X-Injected" in str(r.headers) for r in registry.requests)
    assert not inventory.complete and "not printable ASCII" in _messages(inventory)


def test_endless_tag_pages_stop_at_the_page_limit() -> None:
    with HostileRegistry(endless_tags(page_size=5)) as registry:
        inventory = _scan(registry.url, limits=Limits(listing_pages=40))
        assert len(registry.matching("/tags/list")) == 40
    assert "more than the limit of 40 pages" in _messages(inventory)
    assert inventory.images == ()  # an unfinished listing is not half an inventory


def test_a_limit_is_changed_from_the_command_line(tmp_path: Path) -> None:
    with HostileRegistry(endless_tags(page_size=5)) as registry:
        run = _cli(registry.url, tmp_path / "out", "--oci-limit", "listing_pages=7")
        assert len(registry.matching("/tags/list")) == 7
    assert run.rc == 3
    (error,) = run.report["errors"]
    assert "more than the limit of 7 pages" in error["message"]


@pytest.mark.parametrize("item", ["listing_pages=0", "listing_pages=many", "pages=7", "listing_pages"])
def test_a_bad_limit_is_one_line_exit_2(item: str, tmp_path: Path) -> None:
    with HostileRegistry(plain()) as registry:
        run = _cli(registry.url, tmp_path / "out", "--oci-limit", item)
        assert registry.requests == ()
    assert run.rc == 2 and run.stdout == ""
    (line,) = run.stderr.strip().splitlines()
    assert "listing_pages" in line or "NAME=VALUE" in line


def test_the_help_names_every_limit() -> None:
    from dataclasses import fields

    from audit.cli import OCI_LIMITS

    assert tuple(f.name for f in fields(Limits)) == OCI_LIMITS


def test_endless_tag_pages_stop_at_the_repository_byte_limit() -> None:
    with HostileRegistry(endless_tags(page_size=100)) as registry:
        inventory = _scan(registry.url, limits=Limits(repository_bytes=20_000))
        pages = len(registry.matching("/tags/list"))
    assert "more than the limit of 20000 bytes" in _messages(inventory)
    sizes = [len(json.dumps({"name": "models/llm", "tags": [f"v{p}.{i}" for i in range(100)]})) for p in range(pages)]
    assert sum(sizes[:-1]) <= 20_000 < sum(sizes)  # stopped at the first page past the limit


def test_endless_tag_pages_stop_at_the_scan_name_limit() -> None:
    with HostileRegistry(endless_tags(page_size=100)) as registry:
        inventory = _scan(registry.url, limits=Limits(scan_names=1_000))
    assert "more than its limit of 1000 repository and tag names" in _messages(inventory)


def test_the_scan_byte_limit_covers_every_response() -> None:
    with HostileRegistry(endless_tags(page_size=100)) as registry:
        inventory = _scan(registry.url, limits=Limits(scan_bytes=10_000))
    assert "more than its limit of 10000 bytes" in _messages(inventory)


def test_pages_dripped_under_the_timeout_stop_at_the_listing_time_limit() -> None:
    """Every page arrives in time, but the pages never end: the clock (read once per page, moving 9 s each
    time, as pages dripped just under a 10 s timeout would) stops the listing at its limit."""
    pacing = Pacing(monotonic=slow_clock(9.0))
    with HostileRegistry(endless_tags(page_size=1)) as registry:
        inventory = _scan(registry.url, pacing=pacing, limits=Limits(listing_seconds=300, scan_seconds=10**6))
        pages = len(registry.matching("/tags/list"))
    assert "not done within the limit of 300 s" in _messages(inventory)
    assert pages < 40


def test_the_scan_time_limit_is_said_once_per_target() -> None:
    pacing = Pacing(monotonic=slow_clock(1.0))
    with HostileRegistry(plain([f"r{i}" for i in range(5)], [f"v{i}" for i in range(20)])) as registry:
        inventory = _scan(registry.url, pacing=pacing, limits=Limits(scan_seconds=30))
    messages = [e.message for e in inventory.errors]
    assert messages and all("time limit of 30 s" in m for m in messages)
    assert len({e.target for e in inventory.errors}) == len(messages) <= 5  # once per repository, not per tag


def test_a_body_dripped_past_the_timeout_is_cut_off() -> None:
    """Each request has --timeout from its start to its last byte: a body that takes longer does not keep it."""
    def drip(request: Request) -> Answer:
        if request.route.endswith("/tags/list"):
            return Answer(200, {"Content-Type": "application/json"}, [b'{"tags": ['] + [b" "] * 200, drip=0.05)
        return plain()(request)

    with HostileRegistry(drip) as registry:
        inventory = asyncio.run(scan_oci_registry_async(registry.url, environ={}, max_retries=0, timeout=0.5))
    assert "ReadTimeout" in _messages(inventory)


@pytest.mark.parametrize("value", ["61", "99999999999999999999999999", "9" * 5000, "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_retry_after_past_the_limit_is_a_read_error_not_a_wait(value: str) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with HostileRegistry(retry_after(value)) as registry:
        inventory = asyncio.run(scan_oci_registry_async(
            registry.url, environ={}, max_retries=4, timeout=5, pacing=Pacing(sleep=sleep),
            limits=Limits(retry_after_seconds=60)))
    assert waits == []
    assert "longer than the limit of 60 s" in _messages(inventory)


def test_a_retry_after_within_the_limit_is_waited() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with HostileRegistry(retry_after("60")) as registry:
        inventory = asyncio.run(scan_oci_registry_async(
            registry.url, environ={}, max_retries=2, timeout=5, pacing=Pacing(sleep=sleep)))
    assert waits == [60.0, 60.0] and not inventory.complete


BAD_NUMBERS = [(option, value) for option in ("--timeout", "--rate-limit")
               for value in ("0", "-1", "nan", "inf", "-inf", "1e999", "ten")]
BAD_NUMBERS += [("--concurrency", value) for value in ("0", "-1", "-0", "1.5", "nan", "inf", "1e3")]


@pytest.mark.parametrize(("option", "value"), BAD_NUMBERS)
def test_numeric_options_refuse_zero_negative_nan_and_infinity(option: str, value: str, tmp_path: Path) -> None:
    run = run_cli(["scan", "--registry", "http://127.0.0.1:1", "--quiet", f"{option}={value}"], tmp_path)
    run.assert_clean_exit()
    assert run.rc == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert option in run.stderr


def test_scan_options_refuse_bad_numbers_from_the_api_too() -> None:
    from audit.scan import ScanOptions, run_scan

    for bad in ({"timeout": math.nan}, {"timeout": math.inf}, {"concurrency": 0}, {"rate_limit": -1.0}):
        with pytest.raises(ValueError, match="must be"):
            run_scan(ScanOptions(registries=("http://127.0.0.1:1",), **bad))  # type: ignore[arg-type]
