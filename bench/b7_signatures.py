"""Benchmark 7: signed releases. 5,000 version tags (`--quick`: 200), half of them signed with cosign (a key
pair, the legacy `.sig` tag), scanned as whole `python -m audit scan` processes with and without signature
checks (`signedReleases: ['*']` and the key, or neither), alternated, on loopback and through the 20 ms proxy.
Goal: the scan with signature checks within 2x of the scan without. Requests per tag are printed for both, and
for a registry that speaks Google's tags/list `manifest` extension: its listing stays one request per repository
page, and what signatures add is asked for version-tagged digests only.

Both scans judge the default rules, so both read each released image's manifest and config (metadata); the
scan with signature checks also reads each signed release's signature manifest and layer, and asks the
referrers API once. Its report must find exactly the unsigned releases unsigned.
"""

from __future__ import annotations

import http.server
import json
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from localdev.cosign import new_key, public_pem, sign_image
from localdev.loopback import LoopbackServer
from localdev.oci_push import seed_model_registry
from localdev.oci_registry import LocalRegistry

from .common import audit_scan_argv, fmt_s, median, print_table, run_process, verdict
from .delay_proxy import DelayProxy

GOAL = 2.0  # the scan with signature checks within 2x of the scan without
SETTINGS = 'versionTagPattern: "^v[0-9]+$"\n'


def seed(url: str, repos: int, tags: int, *, concurrency: int = 8) -> tuple[dict[str, dict[str, str]], set[str],
                                                                            str]:
    """`repos` x `tags` version tags, each its own digest; every other digest signed. Returns the inventory,
    the signed digests and the public key (PEM)."""
    expected = seed_model_registry(url, repos, tags, concurrency=concurrency, seed="bench7")
    key = new_key("ecdsa")
    jobs = [(repo, digest) for repo, tagged in sorted(expected.items())
            for i, (_, digest) in enumerate(sorted(tagged.items())) if i % 2 == 0]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(timeout=60.0, limits=limits) as client, ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda job: sign_image(url, job[0], job[1], key, client=client), jobs))
    return expected, {digest for _, digest in jobs}, public_pem(key)


@contextmanager
def google_front(upstream: str, expected: dict[str, dict[str, str]]) -> Iterator[tuple[str, Counter[str]]]:
    """A loopback front that answers the catalog and tags/list as GCR and Artifact Registry do, with the
    `manifest` map (digest -> tags, the `.sig` tags among them), and forwards every other request (manifests,
    blobs, referrers) to the registry. Counts requests: listing, per-digest reads, other."""
    client = httpx.Client(base_url=upstream, timeout=60.0)
    bodies: dict[str, bytes] = {}
    for repo in expected:
        listed = client.get(f"/v2/{repo}/tags/list").json()["tags"]
        manifest: dict[str, dict[str, Any]] = {}
        for tag in sorted(listed):
            digest = client.head(f"/v2/{repo}/manifests/{tag}", headers={
                "Accept": "application/vnd.oci.image.manifest.v1+json"}).headers["Docker-Content-Digest"]
            entry = manifest.setdefault(digest, {"imageSizeBytes": "1024", "layerId": "",
                                                 "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                 "tag": [], "timeCreatedMs": "1700000000000",
                                                 "timeUploadedMs": "1700000000000"})
            entry["tag"].append(tag)
        bodies[repo] = json.dumps({"name": repo, "tags": sorted(listed), "manifest": manifest, "child": []}).encode()
    catalog = json.dumps({"repositories": sorted(expected)}).encode()
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            kind = "listing" if path == "/v2/_catalog" or path.endswith("/tags/list") else (
                "referrers" if "/referrers/" in path else "manifests" if "/manifests/" in path else
                "blobs" if "/blobs/" in path else "other")
            with lock:
                counts[kind] += 1
            if path == "/v2/_catalog":
                self._answer(200, {"Content-Type": "application/json"}, catalog)
            elif path.endswith("/tags/list") and unquote(path[4:-10]) in bodies:
                self._answer(200, {"Content-Type": "application/json"}, bodies[unquote(path[4:-10])])
            else:
                accept = {"Accept": self.headers.get("Accept", "*/*")}
                resp = client.request(self.command, self.path, headers=accept)
                self._answer(resp.status_code, dict(resp.headers), resp.content)

        do_HEAD = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = LoopbackServer(Handler, "bench-front")
    try:
        yield f"http://127.0.0.1:{server.port}", counts
    finally:
        server.close()
        client.close()


def _scan(url: str, out: Path, settings: Path, concurrency: int, server_pid: int | None) -> tuple[Any, dict[str, Any]]:
    run = run_process(audit_scan_argv(["--registry", url, "--concurrency", str(concurrency)], out, settings,
                                      tag_scan=False), server_pid=server_pid, ok_codes=(0, 1))
    return run, json.loads((out / "registry-guard-scan.json").read_text())


def _check(doc: dict[str, Any], signed: set[str], tags: int, with_signatures: bool) -> None:
    """Complete, every tag inventoried, and (with signature checks) exactly the unsigned releases found."""
    if not doc["complete"]:
        raise RuntimeError(f"scan incomplete: {doc['errors'][:3]}")
    if doc["inventory"]["tags"] != tags:
        raise RuntimeError(f"scan inventoried {doc['inventory']['tags']} tags, not {tags}")
    from registry_guard.catalogue.rule import all_rules

    signing = {r.id for r in all_rules().values() if "signedReleases" in r.settings}  # the rule that verifies them
    unsigned = {f["resource"].rsplit("@", 1)[-1] for f in doc["findings"] if f["rule_id"] in signing}
    verified = {r["digest"] for r in doc["releases"] if r["signed"]["status"] == "verified"}
    if with_signatures and (unsigned & signed or verified != signed or len(unsigned) + len(signed) != tags):
        raise RuntimeError(f"signature checks found {len(unsigned)} unsigned and verified {len(verified)} of "
                           f"{len(signed)} signed")
    if not with_signatures and (unsigned or verified):
        raise RuntimeError("a scan without signature checks judged signatures")


def run(*, repos: int, tags: int, delay: float, concurrency: int, repeat: int, out: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"repos": repos, "tags_per_repo": tags, "delay_ms": delay * 1000,
                               "concurrency": concurrency, "repeat": repeat}
    rows: list[list[Any]] = []
    with LocalRegistry(storage="inmemory") as reg, tempfile.TemporaryDirectory(prefix="bench7-") as tmp:
        tmpdir = Path(tmp)
        expected, signed, pem = seed(reg.url, repos, tags)
        total = sum(len(t) for t in expected.values())
        results.update(tag_count=total, signed=len(signed))
        print(f"registry {reg.url}: {repos} repos x {tags} version tags, {len(signed)} signed", flush=True)
        settings = {"without": tmpdir / "without.yaml", "with": tmpdir / "with.yaml"}
        settings["without"].write_text(SETTINGS)
        settings["with"].write_text(SETTINGS + "signedReleases: ['*']\ntrustedKeys:\n  - name: release-key\n"
                                    "    publicKey: |\n" + "".join(f"      {line}\n" for line in pem.splitlines()))
        host = urlsplit(reg.url)
        for mode in ("loopback", "proxy"):
            proxy = DelayProxy(host.hostname or "127.0.0.1", host.port or 80, delay) if mode == "proxy" else None
            if proxy is not None:
                proxy.start()
            try:
                url = proxy.url if proxy is not None else reg.url
                walls: dict[str, list[float]] = {"without": [], "with": []}
                cpu: dict[str, list[float]] = {"without": [], "with": []}
                requests: dict[str, int] = {}
                for i in range(repeat):  # alternated, so drifting load hits both alike
                    for name in ("without", "with"):
                        scan, doc = _scan(url, tmpdir / f"{mode}-{name}-{i}", settings[name], concurrency, reg.pid)
                        _check(doc, signed, total, name == "with")
                        walls[name].append(scan.wall)
                        cpu[name].append(scan.cpu)
                        requests[name] = doc["target"]["registries"][0]["requests"]
                    print(f"  {mode} round {i + 1}: without {walls['without'][-1]:.2f} s "
                          f"({requests['without']} req), with {walls['with'][-1]:.2f} s ({requests['with']} req)",
                          flush=True)
            finally:
                if proxy is not None:
                    proxy.stop()
            ratio = median(walls["with"]) / median(walls["without"])
            ok = ratio <= GOAL
            results[mode] = {"without_s": median(walls["without"]), "with_s": median(walls["with"]),
                             "without_cpu_s": median(cpu["without"]), "with_cpu_s": median(cpu["with"]),
                             "ratio": ratio, "goal": GOAL, "met": ok, "requests": requests,
                             "requests_per_tag": {k: v / total for k, v in requests.items()},
                             "rounds": walls}
            label = "loopback" if mode == "loopback" else f"proxy +{delay * 1000:.0f} ms"
            for name in ("without", "with"):
                rows.append([label, f"{name} signature checks", fmt_s(median(walls[name])),
                             f"{median(cpu[name]):.2f} s", requests[name], f"{requests[name] / total:.3f}",
                             f"{ratio:.2f}x (goal <= {GOAL:g}x): {verdict(ok)}" if name == "with" else ""])

        google: dict[str, Any] = {}
        with google_front(reg.url, expected) as (gurl, counts):
            for name in ("without", "with"):
                counts.clear()
                scan, doc = _scan(gurl, tmpdir / f"google-{name}", settings[name], concurrency, reg.pid)
                _check(doc, signed, total, name == "with")
                google[name] = {"requests": doc["target"]["registries"][0]["requests"], "by_kind": dict(counts),
                                "wall_s": scan.wall}
                rows.append(["Google `manifest` listing", f"{name} signature checks", fmt_s(scan.wall),
                             f"{scan.cpu:.2f} s", google[name]["requests"],
                             f"{google[name]['requests'] / total:.3f}",
                             "listing " + str(counts["listing"]) + ", manifests " + str(counts["manifests"])
                             + ", blobs " + str(counts["blobs"]) + ", referrers " + str(counts["referrers"])])
        results["google"] = google
        listing = {name: google[name]["by_kind"].get("listing", 0) for name in google}
        results["google_listing_unchanged"] = listing["with"] == listing["without"] == repos + 1
    results["table"] = print_table(
        f"7. Signed releases ({repos} x {tags} = {total} version tags, {len(signed)} signed; concurrency "
        f"{concurrency}; median of {repeat} alternated rounds)", rows,
        ["registry", "scan", "wall", "client CPU", "requests", "requests/tag", "verdict / requests by kind"])
    return results
