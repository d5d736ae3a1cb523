"""Benchmark 2: the full audit vs the physical floor (`bench.floor`: the same HTTP requests, nothing
else), both as whole processes on the same registry, alternated; plus requests per tag, on plain OCI
and on a registry that speaks Google's tags/list `manifest` extension (one request per repository page)."""

from __future__ import annotations

import http.server
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from localdev.loopback import LoopbackServer

from .common import PYTHON, audit_scan_argv, fmt_s, median, print_table, run_process, settings_file, verdict
from .estate import SeededRegistry

GOAL = 1.5  # the audit on a maintained HTTP client (aiohttp) within 1.5x of a bare asyncio client


@contextmanager
def google_listing_stub(expected: dict[str, dict[str, str]]) -> Iterator[str]:
    """A loopback registry front that answers catalog and tags/list the way GCR / Artifact Registry do,
    with the `manifest` map (digest -> tags, size, upload time): the audit then needs no HEAD per tag."""
    bodies: dict[str, bytes] = {}
    for repo, tags in expected.items():
        manifest: dict[str, dict[str, Any]] = {}
        for tag, digest in sorted(tags.items()):
            entry = manifest.setdefault(digest, {"imageSizeBytes": "1024", "layerId": "",
                                                 "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                 "tag": [], "timeCreatedMs": "1700000000000",
                                                 "timeUploadedMs": "1700000000000"})
            entry["tag"].append(tag)
        bodies[repo] = json.dumps({"name": repo, "tags": sorted(tags), "manifest": manifest, "child": []}).encode()
    catalog = json.dumps({"repositories": sorted(expected)}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            body: bytes | None = None
            if path == "/v2/_catalog":
                body = catalog
            elif path.startswith("/v2/") and path.endswith("/tags/list"):
                body = bodies.get(unquote(path[4:-10]))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = LoopbackServer(Handler, "bench-front")
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.close()


def run(reg: SeededRegistry, *, concurrency: int, repeat: int, out: Path) -> dict[str, Any]:
    audits, floors = [], []
    with tempfile.TemporaryDirectory(prefix="bench2-") as tmp:
        tmpdir = Path(tmp)
        settings = settings_file(tmpdir)
        report = tmpdir / "audit" / "registry-guard-scan.json"
        floor_json: dict[str, Any] = {}
        audit_requests = 0
        for i in range(repeat):  # alternate, so drifting load hits both alike
            floor = run_process([PYTHON, "-m", "bench.floor", reg.url, "--concurrency", str(concurrency)],
                                server_pid=reg.pid)
            floor_json = json.loads(floor.stdout)
            audit = run_process(audit_scan_argv(["--registry", reg.url, "--concurrency", str(concurrency)],
                                                tmpdir / "audit", settings), server_pid=reg.pid, ok_codes=(0, 1))
            reg.check_audit_report(report)
            doc = json.loads(report.read_text())
            audit_requests = doc["target"]["registries"][0]["requests"]
            floors.append(floor)
            audits.append(audit)
            print(f"  round {i + 1}: floor {floor.wall:.2f} s ({floor_json['requests']} req, box busy "
                  f"{floor.box_busy:.1f} cores), audit {audit.wall:.2f} s ({audit_requests} req, box busy "
                  f"{audit.box_busy:.1f} cores), audit timings {doc['timings']}", flush=True)
        with google_listing_stub(reg.expected) as gurl:
            google = run_process(audit_scan_argv(["--registry", gurl, "--concurrency", str(concurrency)],
                                                 tmpdir / "google", settings), ok_codes=(0, 1))
            gdoc = json.loads((tmpdir / "google" / "registry-guard-scan.json").read_text())
            google_requests = gdoc["target"]["registries"][0]["requests"]
            if gdoc["inventory"]["tags"] != reg.tag_count or not gdoc["complete"]:
                raise RuntimeError("audit with Google's listing extension did not see every tag")
    tags = reg.tag_count
    a, f = median([r.wall for r in audits]), median([r.wall for r in floors])
    ratio = a / f
    round_ratios = [x.wall / y.wall for x, y in zip(audits, floors, strict=True)]
    ok = ratio <= GOAL
    same = audit_requests == floor_json["requests"]
    result = {
        "tags": tags, "repos": reg.repos, "concurrency": concurrency, "repeat": repeat,
        "audit_s": [r.wall for r in audits], "floor_s": [r.wall for r in floors],
        "audit_cpu_s": [r.cpu for r in audits], "floor_cpu_s": [r.cpu for r in floors],
        "registry_cpu_s_audit": [r.server_cpu for r in audits], "registry_cpu_s_floor": [r.server_cpu for r in floors],
        "audit_peak_mb": max(r.peak_rss_mb for r in audits),
        "box_busy_cores_audit": [r.box_busy for r in audits], "box_busy_cores_floor": [r.box_busy for r in floors],
        "ratio": ratio, "round_ratios": round_ratios, "goal": GOAL, "met": ok,
        "audit_requests": audit_requests, "floor_requests": floor_json["requests"], "same_requests": same,
        "requests_per_tag_oci": audit_requests / tags,
        "google_requests": google_requests, "requests_per_tag_google": google_requests / tags,
        "google_audit_s": google.wall,
    }
    rows = [
        ["floor (same requests, nothing else)", fmt_s(f), f"{median([r.cpu for r in floors]):.2f} s",
         f"{median([r.server_cpu for r in floors]):.2f} s", floor_json["requests"],
         f"{floor_json['requests'] / tags:.3f}", ""],
        ["full audit (process, rules, JSON report)", fmt_s(a), f"{median([r.cpu for r in audits]):.2f} s",
         f"{median([r.server_cpu for r in audits]):.2f} s", audit_requests, f"{audit_requests / tags:.3f}",
         f"{ratio:.2f}x floor (goal <= {GOAL}x): {verdict(ok)}"],
        ["full audit, Google `manifest` listing", fmt_s(google.wall), f"{google.cpu:.2f} s", "-",
         google_requests, f"{google_requests / tags:.4f}", "one request per repository page"],
    ]
    result["table"] = print_table(
        f"2. Overhead above the floor ({reg.repos} x {reg.tags} = {tags} tags, concurrency {concurrency}, "
        f"median of {repeat} alternated runs)", rows,
        ["client", "wall", "client CPU", "registry CPU", "requests", "requests/tag", "verdict"])
    print(f"  audit/floor per round: {', '.join(f'{r:.2f}x' for r in round_ratios)}", flush=True)
    if not same:
        print(f"  WARNING: the floor sent {floor_json['requests']} requests, the audit {audit_requests}")
    return result
