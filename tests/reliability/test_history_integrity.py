"""History integrity: concurrent scans both keep their snapshots; a writer killed mid-write never
leaves a partial snapshot that a later scan would take as the latest."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from reliability_support import audit_env, run_cli

from audit.sources.history import LocalHistory, Snapshot
from localdev.oci_registry import LocalRegistry

# Writes snapshots of ~`n` images to the history at argv[1], forever, printing each name written.
_WRITER = """
import sys
from datetime import UTC, datetime
from registry_guard.catalogue.model import Image, ResourceRef
from audit.sources.history import LocalHistory, Snapshot
history, n = LocalHistory(__import__("pathlib").Path(sys.argv[1])), int(sys.argv[2])
repo = ResourceRef("repository", "127.0.0.1:5000")
images = tuple(Image(repo, f"models/m{i % 97}", "sha256:%064x" % i, (f"v{i}.0.0", "latest")) for i in range(n))
while True:
    print(history.write(Snapshot(datetime.now(UTC), images)), flush=True)
"""


def test_two_concurrent_scans_both_keep_their_snapshots(small_registry: tuple[LocalRegistry, dict],
                                                        tmp_path: Path) -> None:
    history = tmp_path / "history"
    args = ["scan", "--registry", small_registry[0].url, "--history", str(history), "--timeout", "2", "--quiet"]
    procs = []
    for i in range(2):
        out = tmp_path / f"out{i}"
        out.mkdir()
        procs.append((out, subprocess.Popen([sys.executable, "-m", "audit", *args, "--output", str(out)],
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                            env=audit_env(), cwd=tmp_path)))
    written = []
    for out, proc in procs:
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 1 and "Traceback" not in stderr, (stdout, stderr)
        report = json.loads((out / "registry-guard-scan.json").read_text())
        assert report["complete"] is True
        written.append(report["history"]["snapshot"])
    assert len(set(written)) == 2
    files = sorted((history / "snapshots").glob("*.json"))
    assert sorted(map(str, files)) == sorted(written)
    for path in files:
        snapshot = Snapshot.from_json(json.loads(path.read_text()), str(path))
        assert len(snapshot.images) == 4
    # A third scan compares with one of them and finds nothing moved.
    third = run_cli(args, tmp_path / "out2")
    assert third.rc == 1 and third.report["history"]["previous_snapshot"] in written
    assert not {f["rule_id"] for f in third.report["findings"]} & {"version-tag-moved", "version-deleted"}


def test_writer_killed_mid_write_never_leaves_a_partial_snapshot(small_registry: tuple[LocalRegistry, dict],
                                                                  tmp_path: Path) -> None:
    history_dir = tmp_path / "history"
    # A previous, complete snapshot from a real scan.
    args = ["scan", "--registry", small_registry[0].url, "--history", str(history_dir), "--timeout", "2", "--quiet"]
    first = run_cli(args, tmp_path / "out0")
    assert first.rc == 1
    history = LocalHistory(history_dir)
    rng = random.Random()
    kills = 0
    checked: set[str] = set()
    for _ in range(6):
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(history_dir), "20000"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=audit_env())
        time.sleep(rng.uniform(0.5, 1.2))  # start-up takes ~0.5 s; then it writes ~3 MB snapshots back to back
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
        kills += 1
        # Every file a reader would consider is a whole snapshot; the latest one loads.
        for path in (history_dir / "snapshots").iterdir():
            if path.suffix == ".json" and not path.name.startswith(".") and path.name not in checked:
                json.loads(path.read_text())  # would raise on a partial write
                checked.add(path.name)
        latest = history.latest()
        assert latest is not None
    assert kills == 6 and len(checked) > 1
    leftovers = [p for p in (history_dir / "snapshots").iterdir() if p.name.startswith(".")]
    # The next real scan reads the last complete snapshot and writes its own.
    second = run_cli(args, tmp_path / "out1")
    second.assert_clean_exit()
    report = second.report
    assert report["complete"] is True, report["errors"]
    assert report["history"]["previous_snapshot"].endswith(".json")
    assert "/." not in report["history"]["previous_snapshot"]
    # Abandoned temporary files are invisible to readers (and were only ever partial).
    assert all(p.suffix == ".json" and p.name.startswith(".tmp-") for p in leftovers)


def test_unreadable_latest_snapshot_is_a_recorded_error(small_registry: tuple[LocalRegistry, dict],
                                                        tmp_path: Path) -> None:
    snapshots = tmp_path / "history" / "snapshots"
    snapshots.mkdir(parents=True)
    (snapshots / "99991231T000000000000Z-garbage.json").write_text('{"format": 1, "images": [')
    run = run_cli(["scan", "--registry", small_registry[0].url, "--history", str(tmp_path / "history"),
                   "--timeout", "2", "--quiet"], tmp_path / "out")
    run.assert_clean_exit()
    report = run.report
    assert run.rc == 3 and report["complete"] is False and report["summary"]["status"] == "incomplete"
    assert any(e["source"] == "history" for e in report["errors"])
