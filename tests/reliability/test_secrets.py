"""Tokens given to the audit never appear in stdout, stderr (progress log) or any report or
history file: neither the token, nor its `oauth2accesstoken:<token>` Basic form, nor the
registry token it is exchanged for. The registry stub demands the token (GCR-style bearer
auth) and, on one repository, echoes the Authorization header back in its error body."""

from __future__ import annotations

import base64
import json
import secrets
import sys
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from reliability_support import CliRun, audit_env, run_cli

from audit.formats import FORMATS
from localdev.fault_proxy import FaultProxy, Reply
from localdev.oci_registry import LocalRegistry

ECHO_REPO = "team/ranker"  # this repository's tags/list answers 403 quoting the Authorization header


def _json(body: object, code: int = 200, **headers: str) -> Reply:
    return code, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


class BearerStub:
    """GCR-like auth in front of the real registry: /v2/* needs `Bearer <issued>`, which /token
    issues only for Basic `oauth2accesstoken:<secret>`."""

    def __init__(self, upstream: str, secret: str) -> None:
        self.secret = secret
        self.issued = "registry-token-" + secrets.token_hex(12)
        self.basic = base64.b64encode(f"oauth2accesstoken:{secret}".encode()).decode()
        self.proxy = FaultProxy(upstream, hook=self._gate)
        self.token_requests = 0

    def _gate(self, method: str, path: str, headers: Mapping[str, str]) -> Reply | None:
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if path.startswith("/token"):
            self.token_requests += 1
            if auth != f"Basic {self.basic}":
                return _json({"errors": [{"code": "DENIED", "message": f"bad credentials {auth}"}]}, 401)
            return _json({"token": self.issued, "expires_in": 300})
        if auth != f"Bearer {self.issued}":
            scope = "registry:catalog:*"
            if "/tags/list" in path or "/manifests/" in path:
                scope = f"repository:{path[4:].split('/tags/list')[0].split('/manifests/')[0]}:pull"
            challenge = f'Bearer realm="{self.proxy.url}/token",service="stub",scope="{scope}"'
            return _json({"errors": [{"code": "UNAUTHORIZED", "message": auth}]}, 401,
                         **{"WWW-Authenticate": challenge})
        if f"/{ECHO_REPO}/tags/list" in path:
            # A registry that quotes the credentials back in its error (the worst case for redaction).
            return _json({"errors": [{"code": f"DENIED {auth}", "message": f"you sent {auth}"}]}, 403)
        return None  # authorised: forward to the real registry

    def __enter__(self) -> BearerStub:
        self.proxy.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.proxy.stop()


def _assert_no_secret(run: CliRun, root: Path, *secret_values: str) -> None:
    texts = {"stdout": run.stdout, "stderr": run.stderr}
    files = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.name.startswith("registry-guard-scan") for p in files)
    for path in files:
        texts[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    for value in secret_values:
        assert len(value) >= 16
        for where, text in texts.items():
            assert value not in text, f"secret found in {where}"


@pytest.fixture(scope="module")
def registry_url(small_registry: tuple[LocalRegistry, dict]) -> str:
    return small_registry[0].url


def _scan_args(url: str, root: Path) -> list[str]:
    formats = [arg for name in sorted(FORMATS) for arg in ("--format", name)]
    return ["scan", "--registry", url, "--history", str(root / "history"), "--timeout", "2", *formats]


def test_registry_token_env_never_leaks(registry_url: str, tmp_path: Path) -> None:
    secret = "ya29." + secrets.token_urlsafe(40)  # shaped like an ADC access token
    with BearerStub(registry_url, secret) as stub:
        run = run_cli([*_scan_args(stub.proxy.url, tmp_path), "--registry-token-env", "REGISTRY_TOKEN"],
                      tmp_path / "reports", env=audit_env({"REGISTRY_TOKEN": secret}), cwd=tmp_path)
        run.assert_clean_exit()
        # The token was used: the stub issued a registry token for it and the other repositories were read.
        assert stub.token_requests >= 1
        assert any(r.headers.get("Authorization") == f"Basic {stub.basic}" for r in stub.proxy.requests)
        report = run.report
        assert report["inventory"]["images"] >= 3
        # The echoing repository is unread (exit 3), and its error is reported, redacted.
        assert run.rc == 3
        echo = [e for e in report["errors"] if e["target"].endswith(ECHO_REPO)]
        assert echo and "***" in echo[0]["message"], report["errors"]
        _assert_no_secret(run, tmp_path, secret, stub.basic, stub.issued)


def test_rejected_token_never_leaks(registry_url: str, tmp_path: Path) -> None:
    """The token endpoint refuses (and quotes the Basic credentials in its error body)."""
    secret = "ya29." + secrets.token_urlsafe(40)
    with BearerStub(registry_url, "some-other-token-entirely") as stub:
        run = run_cli([*_scan_args(stub.proxy.url, tmp_path), "--registry-token-env", "REGISTRY_TOKEN"],
                      tmp_path / "reports", env=audit_env({"REGISTRY_TOKEN": secret}), cwd=tmp_path)
        run.assert_clean_exit()
        assert run.rc == 3 and run.report["complete"] is False
        basic = base64.b64encode(f"oauth2accesstoken:{secret}".encode()).decode()
        assert any(r.headers.get("Authorization") == f"Basic {basic}" for r in stub.proxy.requests)
        _assert_no_secret(run, tmp_path, secret, basic)


class MetadataServer:
    """A GCE metadata server stand-in on loopback: Application Default Credentials (the
    compute-engine kind) get their access token from it, as on Cloud Run."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.token_requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path.endswith("/service-accounts/default/token"):
                    outer.token_requests += 1
                    body: Any = {"access_token": outer.token, "expires_in": 3599, "token_type": "Bearer"}
                elif path.endswith("/service-accounts/default/") or path.endswith("/service-accounts/default"):
                    body = {"email": "audit@demo-project.iam.gserviceaccount.com", "aliases": ["default"],
                            "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}
                elif path.endswith("/project/project-id"):
                    body = "demo-project"
                elif path in ("/", "/computeMetadata/v1/", "/computeMetadata/v1"):
                    body = ""
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.send_header("Metadata-Flavor", "Google")
                    self.end_headers()
                    return
                data = (json.dumps(body) if isinstance(body, dict) else body).encode()
                self.send_response(200)
                self.send_header("Metadata-Flavor", "Google")
                self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> MetadataServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


# `python -m audit` with one change: the loopback stub counts as a Google host, so the audit
# takes the token from ADC (a real Google host cannot be reached from a loopback-only test).
_AS_GOOGLE_HOST = (
    "import sys, warnings; warnings.filterwarnings('ignore', category=FutureWarning);"
    "import audit.sources.oci.tokens as t; t.is_google_host = lambda url: True;"
    "from audit.cli import main; sys.exit(main())"
)


def test_adc_token_never_leaks(registry_url: str, tmp_path: Path) -> None:
    import subprocess

    token = "ya29.c." + secrets.token_urlsafe(48)
    with MetadataServer(token) as metadata, BearerStub(registry_url, token) as stub:
        (tmp_path / "gcloud").mkdir()
        env = audit_env({"GCE_METADATA_HOST": metadata.host, "GCE_METADATA_IP": metadata.host,
                         "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"), "GOOGLE_CLOUD_PROJECT": "demo-project"},
                        drop=("GOOGLE_AUTH_TOKEN",))
        out = tmp_path / "reports"
        out.mkdir()
        proc = subprocess.run([sys.executable, "-c", _AS_GOOGLE_HOST, *_scan_args(stub.proxy.url, tmp_path),
                               "--output", str(out)], capture_output=True, text=True, env=env, cwd=tmp_path,
                              timeout=120, stdin=subprocess.DEVNULL)
        run = CliRun(proc.returncode, proc.stdout, proc.stderr, out)
        run.assert_clean_exit()
        assert metadata.token_requests >= 1, run.stderr  # the token really came from ADC
        assert stub.token_requests >= 1
        assert run.rc == 3 and run.report["inventory"]["images"] >= 3, run.stderr
        _assert_no_secret(run, tmp_path, token, stub.basic, stub.issued)
