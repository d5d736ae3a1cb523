"""Shared helpers: machine description, load, timing a whole child process (wall, CPU, peak RSS)."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localdev.peak_rss import run_measured

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PYCACHE = ROOT / "bench" / "out" / "pycache"


def use_bytecode_cache() -> bool:
    """Child processes get bytecode caches, as any installed deployment has. This environment sets
    PYTHONDONTWRITEBYTECODE=1, which makes every `python -m audit` recompile ~500 modules (~1.5 s on
    this box). The caches go to bench/out/pycache (PYTHONPYCACHEPREFIX), never into .venv.
    Returns True if it had to change the environment."""
    changed = os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None
    PYCACHE.mkdir(parents=True, exist_ok=True)
    os.environ["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    sys.dont_write_bytecode = False
    sys.pycache_prefix = str(PYCACHE)
    return changed


WARM_IMPORTS = ("audit.cli", "audit.scan", "audit.report", "audit.formats", "audit.waivers",
                "audit.settings_file", "audit.sources.oci", "audit.sources.artifact_registry",
                "audit.formats.json_report", "bench.floor", "bench.skopeo_baseline", "bench.delay_proxy",
                "registry_guard.catalogue.judge", "google.auth.transport.requests", "pulumi.policy", "pulumi_policy")


def warm_bytecode() -> float:
    """Import what the measured processes import once, so the caches exist before any timing."""
    started = time.perf_counter()
    code = "import importlib, warnings\nwarnings.simplefilter('ignore')\n" + "".join(
        f"try:\n    importlib.import_module({m!r})\nexcept Exception:\n    pass\n" for m in WARM_IMPORTS)
    subprocess.run([PYTHON, "-c", code], cwd=ROOT, check=False, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([PYTHON, "-c", code], cwd=ROOT / "policy-pack", check=False, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_mb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_mb": mem_mb,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": loadavg(),
    }


def cpu_seconds_of(pid: int | None) -> float:
    """utime+stime of a running process (e.g. the registry), from /proc; 0 if unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _cpu_jiffies() -> list[int]:
    """The all-CPU line of /proc/stat: user nice system idle iowait irq softirq steal ..."""
    return [int(p) for p in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def steal_seconds() -> float:
    """CPU time the hypervisor gave to other guests while this VM wanted it (all CPUs, /proc/stat):
    wall-clock figures taken while it grows are slower than the code is."""
    try:
        return _cpu_jiffies()[7] / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def busy_cores() -> tuple[float, float]:
    """(busy jiffies, total jiffies) over all CPUs, to tell how loaded the box was during a run."""
    values = _cpu_jiffies()
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


@dataclass
class Run:
    """One child process, measured from spawn to exit."""

    argv: list[str]
    wall: float
    returncode: int
    user: float
    sys: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    server_cpu: float = 0.0  # CPU seconds the registry (or fake) spent meanwhile, when known
    box_busy: float = 0.0  # average busy cores on the whole machine during the run
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cpu(self) -> float:
        return self.user + self.sys


def run_process(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None,
                server_pid: int | None = None, ok_codes: Sequence[int] = (0,)) -> Run:
    """Spawn under the measuring launcher (the child's own peak RSS, CPU and wall time, see
    `localdev.peak_rss`), and note what the server and the machine spent meanwhile."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        server_before = cpu_seconds_of(server_pid)
        busy0, total0 = busy_cores()
        usage = run_measured(argv, env=env, cwd=cwd or ROOT, stdout=out, stderr=err)
        busy1, total1 = busy_cores()
        out.seek(0)
        err.seek(0)
        run = Run(list(argv), usage.wall, usage.returncode, usage.user, usage.sys, usage.peak_rss_kib / 1024,
                  out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                  cpu_seconds_of(server_pid) - server_before,
                  (busy1 - busy0) / max(1.0, total1 - total0) * (os.cpu_count() or 1))
    if run.returncode not in ok_codes:
        raise RuntimeError(f"{' '.join(argv[:6])}… exited {run.returncode}: {run.stderr[-1500:]}"
                           f"{run.stdout[-500:]}")
    return run


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def print_table(title: str, rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """Print (and return) a small Markdown table, so the console output pastes into RESULTS.md."""
    lines = [f"\n### {title}", "", "| " + " | ".join(header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


SETTINGS_YAML = """\
# Benchmark settings: the seeded tags are v0000…, the synthetic AR images v0…; both are the version.
versionTagPattern: "^v[0-9]+$"
"""


def settings_file(directory: Path) -> Path:
    path = directory / "bench-settings.yaml"
    path.write_text(SETTINGS_YAML)
    return path


def tag_scan_only() -> list[str]:
    """--skip-rules for the rules that make a scan read released images' configs and annotations (one GET per
    released image more). Benchmarks 1-4 measure the tag scan (catalog, tags, digests) against floors and
    baselines that do the same, as they did before the scan read metadata; benchmark 7 measures what released
    images add."""
    from registry_guard.catalogue.releases import METADATA_TAG
    from registry_guard.catalogue.rule import all_rules

    return ["--skip-rules", ",".join(sorted(r.id for r in all_rules().values() if METADATA_TAG in r.tags))]


def audit_scan_argv(args: Sequence[str], out_dir: Path, settings: Path, *, tag_scan: bool = True) -> list[str]:
    return [PYTHON, "-m", "audit", "scan", *args, "--config", str(settings), "--format", "json",
            "--output", str(out_dir), "--quiet", *(tag_scan_only() if tag_scan else [])]
