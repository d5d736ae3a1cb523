"""Where the reports go, through the real CLI: an output that is a file, a device, read-only or full never costs
a finding (the history is left as it was, so the next scan still sees what moved); concurrent scans into one
output never crash each other; a link planted in the output is never written through.

Read-only and full file systems are real: a small tmpfs mounted in a private mount namespace (`unshare`), in
which the audit runs; those cases skip where the kernel does not allow one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import CliRun, audit_env, run_cli, seed_small

from localdev.oci_push import push_image
from localdev.oci_registry import LocalRegistry

MOVED = ("models/llm", "v1.0.0")


@pytest.fixture
def registry() -> Iterator[LocalRegistry]:
    with LocalRegistry() as reg:
        seed_small(reg.url)
        yield reg


def _args(registry: LocalRegistry, history: Path) -> list[str]:
    return ["scan", "--registry", registry.url, "--history", str(history), "--timeout", "2", "--quiet"]


def _snapshots(history: Path) -> list[str]:
    folder = history / "snapshots"
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []


def _one_error_line(run: CliRun | subprocess.CompletedProcess[str]) -> str:
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr[-3000:]
    assert "Traceback" not in run.stderr + run.stdout
    return lines[0]


def _the_move_is_still_found(registry: LocalRegistry, history: Path, out: Path) -> None:
    """The scan after a failed one compares with the snapshot from before the move."""
    run = run_cli(_args(registry, history), out)
    run.assert_clean_exit()
    moved = [f for f in run.report["findings"] if f["rule_id"] == "version-tag-moved"]
    assert [f["evidence"]["tag"] for f in moved] == [MOVED[1]], run.report["findings"]


def _move(registry: LocalRegistry) -> None:
    push_image(registry.url, MOVED[0], [MOVED[1]], content_seed="replaced content", layer_seed="shared")


@pytest.mark.parametrize("output", ["file", "/dev/full"])
def test_an_output_that_is_no_directory_is_refused_before_scanning(registry: LocalRegistry, tmp_path: Path,
                                                                  output: str) -> None:
    history = tmp_path / "history"
    run_cli(_args(registry, history), tmp_path / "out0").assert_clean_exit()
    _move(registry)
    target = tmp_path / "report.json" if output == "file" else Path(output)
    if output == "file":
        target.write_text("an earlier report")
    proc = subprocess.run([sys.executable, "-m", "audit", *_args(registry, history), "--output", str(target)],
                          capture_output=True, text=True, env=audit_env(), cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "not a directory" in _one_error_line(proc) and proc.stdout == ""
    assert _snapshots(history) == ["000000000001.json"]
    if output == "file":
        assert target.read_text() == "an earlier report"
    _the_move_is_still_found(registry, history, tmp_path / "out2")


# ---------------------------------------------------------------------------------------------
# Read-only and full file systems

def _namespaces_work(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                           f"mount -t tmpfs -o size=64k tmpfs {probe}"], capture_output=True, timeout=30)
    return done.returncode == 0


def _scan_on_tmpfs(registry: LocalRegistry, history: Path, mount: Path, setup: str) -> subprocess.CompletedProcess[str]:
    """The audit with `--output mount/reports`, where `mount` is a tmpfs set up by `setup` (shell, in the
    namespace, after the mount)."""
    mount.mkdir()
    argv = " ".join(f"'{a}'" for a in [sys.executable, "-m", "audit", *_args(registry, history),
                                          "--output", str(mount / "reports")])
    script = f"mount -t tmpfs -o size=64k tmpfs '{mount}' && {setup} && exec {argv}"
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                          capture_output=True, text=True, env=audit_env(), cwd=history.parent, timeout=120)


def test_a_read_only_output_is_refused_before_scanning(registry: LocalRegistry, tmp_path: Path) -> None:
    if not _namespaces_work(tmp_path):
        pytest.skip("no private mount namespace here (unshare)")
    history = tmp_path / "history"
    run_cli(_args(registry, history), tmp_path / "out0").assert_clean_exit()
    _move(registry)
    mount = tmp_path / "ro"
    proc = _scan_on_tmpfs(registry, history, mount, f"mkdir '{mount}/reports' && mount -o remount,ro '{mount}'")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Read-only file system" in _one_error_line(proc)
    assert _snapshots(history) == ["000000000001.json"]
    _the_move_is_still_found(registry, history, tmp_path / "out2")


def test_a_full_disk_leaves_no_report_and_the_history_as_it_was(registry: LocalRegistry, tmp_path: Path) -> None:
    if not _namespaces_work(tmp_path):
        pytest.skip("no private mount namespace here (unshare)")
    history = tmp_path / "history"
    first = run_cli(_args(registry, history), tmp_path / "out0")
    first.assert_clean_exit()
    size = (first.output / "registry-guard-scan.json").stat().st_size
    assert size > 4096  # the report does not fit in the one page the fill leaves free
    _move(registry)
    mount = tmp_path / "full"
    # Fill the 64 KiB tmpfs but for one page: the probe fits, the report does not.
    proc = _scan_on_tmpfs(registry, history, mount,
                          f"mkdir '{mount}/reports' && (dd if=/dev/zero of='{mount}/fill' bs=4096 count=15 "
                          "2>/dev/null; true)")
    assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    line = _one_error_line(proc)
    assert "No space left on device" in line and "the history was left as it was" in line
    assert _snapshots(history) == ["000000000001.json"]
    _the_move_is_still_found(registry, history, tmp_path / "out2")


# ---------------------------------------------------------------------------------------------
# One output, many writers; links planted in it

def test_concurrent_scans_into_one_output_both_finish(registry: LocalRegistry, tmp_path: Path) -> None:
    out = tmp_path / "shared"
    out.mkdir()
    procs = [subprocess.Popen([sys.executable, "-m", "audit", "scan", "--registry", registry.url, "--quiet",
                               "--timeout", "2", "--format", "json", "--format", "html", "--format", "sarif",
                               "--output", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=audit_env(), cwd=tmp_path) for _ in range(4)]
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 1 and "Traceback" not in stderr, (stdout, stderr[-2000:])
    report = json.loads((out / "registry-guard-scan.json").read_text())
    assert report["complete"] is True
    assert sorted(p.name for p in out.iterdir()) == [
        "registry-guard-scan.html", "registry-guard-scan.json", "registry-guard-scan.sarif",
        "registry-guard-scan.sha256"]


def test_a_planted_link_is_never_written_through(registry: LocalRegistry, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    precious = tmp_path / "precious.txt"
    precious.write_text("not the audit's to write")
    # The temporary name the audit once used, and the report's own name, both pointing at another file.
    (out / ".registry-guard-scan.json.tmp").symlink_to(precious)
    (out / "registry-guard-scan.json").symlink_to(precious)
    run = run_cli(["scan", "--registry", registry.url, "--timeout", "2", "--quiet"], out)
    run.assert_clean_exit()
    assert precious.read_text() == "not the audit's to write"
    assert not (out / "registry-guard-scan.json").is_symlink() and run.report["complete"] is True
    assert f"report: {out / 'registry-guard-scan.json'} (replaced the earlier file of that name)" in run.stdout
    # The next run says it replaced this one.
    again = run_cli(["scan", "--registry", registry.url, "--timeout", "2", "--quiet"], out)
    assert "(replaced the earlier file of that name)" in again.stdout


def test_staging_files_a_killed_run_left_are_swept_by_the_next_write(registry: LocalRegistry, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    two_days_ago = time.time() - 2 * 86400
    stale = [out / ".registry-guard-scan.json.k1ll3d.tmp", out / ".registry-guard-probe-x0y1z2"]
    for path in stale:
        path.write_text("{half a report")
        os.utime(path, (two_days_ago, two_days_ago))
    fresh = out / ".registry-guard-scan.html.wr1t1n.tmp"  # another run may be writing it right now
    fresh.write_text("<html>")
    mine = out / ".registry-guard-notes.txt"  # not a name the audit writes
    mine.write_text("keep")
    os.utime(mine, (two_days_ago, two_days_ago))
    run = run_cli(["scan", "--registry", registry.url, "--timeout", "2", "--quiet"], out)
    run.assert_clean_exit()
    assert not any(path.exists() for path in stale)
    assert fresh.exists() and mine.read_text() == "keep"


def test_the_sweep_keeps_links_and_young_files(tmp_path: Path) -> None:
    from audit.formats import STALE_AFTER_S, sweep_stale

    target = tmp_path / "elsewhere"
    target.write_text("x")
    (tmp_path / ".registry-guard-scan.json.l1nk.tmp").symlink_to(target)
    young = tmp_path / ".registry-guard-scan.csv.y0ung.tmp"
    young.write_text("x")
    born = young.stat().st_mtime
    assert sweep_stale(tmp_path, born + STALE_AFTER_S - 1) == []
    assert sweep_stale(tmp_path, born + STALE_AFTER_S + 1) == [young.name]
    assert target.exists() and (tmp_path / ".registry-guard-scan.json.l1nk.tmp").is_symlink()


def test_a_directory_another_run_removes_under_us_is_made_again(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs probing one output that did not exist: one may remove the directory between the other's mkdir
    and its file. The probe (and the reports' staging) makes it again instead of failing."""
    import tempfile

    from audit.formats import check_output_directory

    output = tmp_path / "new"
    real = tempfile.mkstemp
    calls = []

    def removed_once(*args: object, **kwargs: object) -> tuple[int, str]:
        calls.append(args)
        if len(calls) == 1:
            output.rmdir()  # the other run's probe, finishing
            raise FileNotFoundError(2, "No such file or directory")
        return real(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(tempfile, "mkstemp", removed_once)
    check_output_directory(output)
    assert len(calls) == 2 and not output.exists()  # probed, then removed as it found it: missing
