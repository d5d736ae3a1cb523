"""The OCI wire honours the environment as enterprise networks need it: HTTP(S)_PROXY / NO_PROXY (a local
forward proxy, localdev/forward_proxy.py, proves the requests went through it) and CA bundles given in
SSL_CERT_FILE / REQUESTS_CA_BUNDLE / SSL_CERT_DIR (a local https registry whose CA is minted per test and
trusted only through them). The environment is passed explicitly, so the machine's own settings play no part."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from audit.sources.oci import OciInventory, StaticToken, scan_oci_registry_async
from audit.sources.oci.wire import ProxyConfig
from localdev.forward_proxy import ForwardProxy
from localdev.hostile_registry import HostileRegistry, bearer, json_answer, plain
from localdev.tls import TlsFiles, mint

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return mint(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_registry(tls: TlsFiles) -> Iterator[HostileRegistry]:
    with HostileRegistry(plain(("models/llm", "models/vision"), ("v1", "v2")), tls=tls) as registry:
        yield registry


@pytest.fixture
def http_registry() -> Iterator[HostileRegistry]:
    with HostileRegistry(plain(("models/llm",), ("v1",))) as registry:
        yield registry


def _scan(url: str, environ: dict[str, str], **kwargs: object) -> OciInventory:
    return asyncio.run(scan_oci_registry_async(url, environ=environ, max_retries=0, timeout=5, **kwargs))  # type: ignore[arg-type]


def test_plain_http_goes_through_http_proxy(http_registry: HostileRegistry) -> None:
    with ForwardProxy() as proxy:
        inventory = _scan(http_registry.url, {"HTTP_PROXY": proxy.url})
    assert inventory.complete and inventory.tags == 1
    assert {r.method for r in proxy.requests} == {"GET", "HEAD"}
    assert all(r.target.startswith(http_registry.url) for r in proxy.requests)
    assert len(proxy.requests) == inventory.requests == len(http_registry.requests)


def test_https_goes_through_a_connect_tunnel(https_registry: HostileRegistry, tls: TlsFiles) -> None:
    with ForwardProxy() as proxy:
        inventory = _scan(https_registry.url, {"HTTPS_PROXY": proxy.url, "SSL_CERT_FILE": str(tls.ca)})
    assert inventory.complete and inventory.tags == 4, inventory.errors
    assert proxy.requests and {(r.method, r.target) for r in proxy.requests} == {("CONNECT", https_registry.host)}


def test_lower_case_proxy_variables_win(http_registry: HostileRegistry) -> None:
    with ForwardProxy() as used, ForwardProxy() as unused:
        _scan(http_registry.url, {"http_proxy": used.url, "HTTP_PROXY": unused.url})
    assert used.requests and not unused.requests


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "*", "localhost,127.0.0.1", ".0.0.1"])
def test_no_proxy_bypasses_the_proxy(http_registry: HostileRegistry, no_proxy: str) -> None:
    with ForwardProxy() as proxy:
        inventory = _scan(http_registry.url, {"HTTP_PROXY": proxy.url, "NO_PROXY": no_proxy})
    assert inventory.complete and proxy.requests == ()


def test_proxy_credentials_are_sent_to_the_proxy_and_never_shown(https_registry: HostileRegistry,
                                                                 tls: TlsFiles) -> None:
    with ForwardProxy(require_auth="corp:proxy-pass-123456") as proxy:
        host = proxy.url.removeprefix("http://")
        good = _scan(https_registry.url, {"HTTPS_PROXY": f"http://corp:proxy-pass-123456@{host}",
                                          "SSL_CERT_FILE": str(tls.ca)})
        bad = _scan(https_registry.url, {"HTTPS_PROXY": f"http://corp:wrong-pass-123456@{host}",
                                         "SSL_CERT_FILE": str(tls.ca)})
    assert good.complete, good.errors
    assert not bad.complete and "ProxyError" in bad.errors[0].message
    for inventory in (good, bad):
        assert "pass-123456" not in repr(inventory)


def test_the_registry_token_goes_through_the_tunnel_not_to_the_proxy(tls: TlsFiles) -> None:
    with HostileRegistry(plain(), tls=tls) as registry, ForwardProxy() as proxy:
        registry.handler = bearer(plain(), f"{registry.url}/token")
        inventory = _scan(registry.url, {"HTTPS_PROXY": proxy.url, "SSL_CERT_FILE": str(tls.ca)},
                          token_provider=StaticToken("registry-secret-abcdef"))
        assert any(r.header("Authorization") for r in registry.requests)
    assert inventory.complete, inventory.errors
    assert all(r.method == "CONNECT" and r.proxy_authorization is None for r in proxy.requests)


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "SSL_CERT_DIR"])
def test_a_ca_bundle_from_the_environment_is_trusted(https_registry: HostileRegistry, tls: TlsFiles,
                                                     variable: str, tmp_path: Path) -> None:
    value = str(tls.ca)
    if variable == "SSL_CERT_DIR":  # a hashed directory, as c_rehash / openssl rehash make it
        if shutil.which("openssl") is None:
            pytest.skip("openssl is needed to hash a CA directory")
        (tmp_path / "ca.pem").write_bytes(tls.ca.read_bytes())
        subprocess.run(["openssl", "rehash", str(tmp_path)], check=True, capture_output=True)
        value = str(tmp_path)
    inventory = _scan(https_registry.url, {variable: value})
    assert inventory.complete and inventory.tags == 4, inventory.errors


def test_without_the_ca_bundle_the_certificate_is_not_trusted(https_registry: HostileRegistry) -> None:
    inventory = _scan(https_registry.url, {})  # certifi's bundle: the minted CA is not in it
    assert not inventory.complete
    assert "not trusted" in inventory.errors[0].message and inventory.images == ()


def test_another_ca_does_not_vouch_for_the_registry(https_registry: HostileRegistry, tmp_path: Path) -> None:
    other = mint(tmp_path / "other")
    inventory = _scan(https_registry.url, {"SSL_CERT_FILE": str(other.ca)})
    assert not inventory.complete and "not trusted" in inventory.errors[0].message


@pytest.mark.parametrize(("environ", "message"), [
    ({"SSL_CERT_FILE": "/nonexistent/ca.pem"}, "SSL_CERT_FILE: cannot load the CA bundle"),
    ({"REQUESTS_CA_BUNDLE": "/etc/hostname"}, "REQUESTS_CA_BUNDLE: cannot load the CA bundle"),
    ({"HTTPS_PROXY": "https://proxy.example:3128"}, "HTTPS_PROXY: only an http:// proxy is supported"),
    ({"HTTP_PROXY": "socks5://proxy.example:1080"}, "HTTP_PROXY: only an http:// proxy is supported"),
])
def test_bad_environment_is_refused_in_one_line(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        _scan("http://127.0.0.1:1", environ)
    assert "\n" not in str(raised.value)


def test_proxy_config_reads_the_environment_once() -> None:
    config = ProxyConfig({"https_proxy": "proxy.internal:3128", "no_proxy": "registry.internal"})
    proxy = config.for_url("https", "gcr.io")
    assert proxy is not None and proxy.url == "http://proxy.internal:3128"
    assert config.for_url("https", "registry.internal") is None
    assert config.for_url("http", "gcr.io") is None  # no HTTP_PROXY: plain http goes direct


def test_the_cli_honours_ssl_cert_file_and_https_proxy(https_registry: HostileRegistry, tls: TlsFiles,
                                                       tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k.upper() not in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY",
                                "NO_PROXY")}
    with ForwardProxy() as proxy:
        proc = subprocess.run([sys.executable, "-m", "audit", "scan", "--registry", https_registry.url, "--quiet",
                               "--output", str(tmp_path)], capture_output=True, text=True, timeout=120,
                              env={**env, "SSL_CERT_FILE": str(tls.ca), "HTTPS_PROXY": proxy.url},
                              cwd=REPO_ROOT, stdin=subprocess.DEVNULL)
    report = json.loads((tmp_path / "registry-guard-scan.json").read_text())
    assert report["complete"] is True and proc.returncode == 1, proc.stderr  # 1: findings, nothing unread
    assert proxy.requests and all(r.method == "CONNECT" for r in proxy.requests)


def test_registries_answering_json_errors_are_not_retried_through_the_proxy(http_registry: HostileRegistry) -> None:
    http_registry.handler = lambda r: json_answer({"errors": [{"code": "DENIED"}]}, 403)
    with ForwardProxy() as proxy:
        inventory = _scan(http_registry.url, {"HTTP_PROXY": proxy.url})
    assert "HTTP 403 DENIED" in inventory.errors[0].message and len(proxy.requests) == 1
