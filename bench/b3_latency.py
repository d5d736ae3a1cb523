"""Benchmark 3: a latency-bound scan. Every request is held ~20 ms by the loopback delay proxy; the
same `scan_oci_registry_async` runs one request at a time, then with `concurrency` and a client-side
rate limit (Artifact Registry's quota is 60,000 requests per minute per project and region, shared
with CI and serving: the nightly audit should take only part of it)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from audit.sources.oci import scan_oci_registry_async

from .common import fmt_s, print_table, verdict
from .delay_proxy import DelayProxy
from .estate import SeededRegistry

GOAL = 8.0
AR_QUOTA_PER_MINUTE = 60_000


def _scan(url: str, concurrency: int, rate_limit: float | None) -> tuple[float, int, int, int]:
    started = time.perf_counter()
    inv = asyncio.run(scan_oci_registry_async(url, concurrency=concurrency, rate_limit=rate_limit))
    wall = time.perf_counter() - started
    if inv.errors:
        raise RuntimeError(f"scan through the proxy had errors: {inv.errors[:3]}")
    return wall, inv.requests, inv.tags, len(inv.images)


def run(reg: SeededRegistry, *, delay: float, concurrency: int, rate_limit: float, out: Path) -> dict[str, Any]:
    host = urlsplit(reg.url)
    with DelayProxy(host.hostname or "127.0.0.1", host.port or 80, delay) as proxy:
        seq_s, seq_req, tags, images = _scan(proxy.url, 1, None)
        print(f"  one at a time: {seq_s:.2f} s, {seq_req} requests ({seq_req / seq_s:.0f} req/s)", flush=True)
        con_s, con_req, tags2, images2 = _scan(proxy.url, concurrency, rate_limit)
        print(f"  concurrency {concurrency}, limit {rate_limit:.0f}/s: {con_s:.2f} s, {con_req} requests "
              f"({con_req / con_s:.0f} req/s)", flush=True)
    if (tags, images, seq_req) != (tags2, images2, con_req):
        raise RuntimeError("the sequential and concurrent scans saw different things")
    speedup = seq_s / con_s
    achieved = con_req / con_s
    ok = speedup >= GOAL
    result: dict[str, Any] = {"tags": tags, "requests": con_req, "delay_ms": delay * 1000, "concurrency": concurrency,
              "rate_limit": rate_limit, "sequential_s": seq_s, "concurrent_s": con_s, "speedup": speedup,
              "achieved_req_per_s": achieved, "goal": GOAL, "met": ok,
              "rate_limit_share_of_ar_quota": rate_limit * 60 / AR_QUOTA_PER_MINUTE}
    rows = [
        ["one request at a time", fmt_s(seq_s), f"{seq_req / seq_s:.0f}", "1", "-", ""],
        ["concurrent", fmt_s(con_s), f"{achieved:.0f}", str(concurrency),
         f"{rate_limit:.0f}/s = {rate_limit * 60:,.0f}/min ({rate_limit * 60 / AR_QUOTA_PER_MINUTE:.0%} of AR's "
         f"{AR_QUOTA_PER_MINUTE:,}/min)",
         f"{speedup:.1f}x (goal >= {GOAL:.0f}x): {verdict(ok)}"],
    ]
    result["table"] = print_table(
        f"3. Latency-bound scan (+{delay * 1000:.0f} ms per request via loopback proxy, {tags} tags, "
        f"{con_req} requests)", rows, ["scan", "wall", "req/s", "concurrency", "client rate limit", "speed-up"])
    return result
