"""Benchmark 1: `python -m audit scan` (whole process: start, inventory, rules, JSON report) vs the
skopeo script teams use today, on the same registry, directly on loopback and through a 20 ms proxy."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .common import PYTHON, audit_scan_argv, cpu_seconds_of, fmt_s, print_table, run_process, settings_file, verdict
from .delay_proxy import DelayProxy
from .estate import SeededRegistry

GOALS = {"loopback": 5.0, "proxy": 30.0}


def run(reg: SeededRegistry, *, delay: float, concurrency: int, skopeo_jobs: int, out: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"tags": reg.tag_count, "repos": reg.repos, "skopeo_jobs": skopeo_jobs,
                               "concurrency": concurrency, "delay_ms": delay * 1000}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench1-") as tmp:
        tmpdir = Path(tmp)
        settings = settings_file(tmpdir)
        host = urlsplit(reg.url)
        for mode in ("loopback", "proxy"):
            proxy = DelayProxy(host.hostname or "127.0.0.1", host.port or 80, delay) if mode == "proxy" else None
            if proxy is not None:
                proxy.start()
            try:
                url = proxy.url if proxy is not None else reg.url
                report_dir = tmpdir / f"audit-{mode}"
                proxy_cpu0 = cpu_seconds_of(proxy.pid if proxy else None)
                audit = run_process(audit_scan_argv(["--registry", url, "--concurrency", str(concurrency)],
                                                    report_dir, settings),
                                    server_pid=reg.pid, ok_codes=(0, 1))
                proxy_cpu_audit = cpu_seconds_of(proxy.pid if proxy else None) - proxy_cpu0
                if proxy is None:
                    reg.check_audit_report(report_dir / "registry-guard-scan.json")
                inv_file = tmpdir / f"skopeo-{mode}.json"
                skopeo = run_process([PYTHON, "-m", "bench.skopeo_baseline", url, "--jobs", str(skopeo_jobs),
                                      "--out", str(inv_file)], server_pid=reg.pid)
                if proxy is None:
                    reg.check_inventory(json.loads(inv_file.read_text()))
            finally:
                if proxy is not None:
                    proxy.stop()
            ratio = skopeo.wall / audit.wall
            ok = ratio >= GOALS[mode]
            results[mode] = {"audit_s": audit.wall, "audit_cpu_s": audit.cpu, "audit_peak_mb": audit.peak_rss_mb,
                             "registry_cpu_s_audit": audit.server_cpu, "proxy_cpu_s_audit": proxy_cpu_audit,
                             "registry_cpu_s_skopeo": skopeo.server_cpu,
                             "skopeo_s": skopeo.wall, "skopeo_cpu_s": skopeo.cpu, "ratio": ratio,
                             "goal": GOALS[mode], "met": ok, "box_busy_cores_audit": audit.box_busy,
                             "box_busy_cores_skopeo": skopeo.box_busy}
            label = "loopback" if mode == "loopback" else f"proxy +{delay * 1000:.0f} ms"
            rows.append([label, fmt_s(audit.wall), fmt_s(skopeo.wall), f"{ratio:.1f}x", f">= {GOALS[mode]:.0f}x",
                         verdict(ok), f"{audit.box_busy:.1f} / {skopeo.box_busy:.1f}"])
            print(f"  {label}: audit {audit.wall:.2f} s, skopeo {skopeo.wall:.2f} s -> {ratio:.1f}x", flush=True)
    results["table"] = print_table(
        f"1. Inventory scan vs skopeo ({reg.repos} repos x {reg.tags} tags = {reg.tag_count} tags, "
        f"audit --concurrency {concurrency}, skopeo jobs {skopeo_jobs})",
        rows, ["where", "audit (whole process)", "skopeo script", "speed-up", "goal", "", "busy cores audit/skopeo"])
    return results
