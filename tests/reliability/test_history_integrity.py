"""History integrity, through the real CLI: concurrent scans both keep their snapshots, in one chain; a writer
killed mid-write never leaves a partial snapshot a later scan would take as the newest; and a history someone
changed (a stray file, a snapshot edited, deleted, misshapen or dated in the future) is a finding of its own,
while the moved and deleted versions are still judged against the newest snapshot that can be trusted."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reliability_support import CliRun, audit_env, run_cli, seed_small

from audit.sources.history import LocalHistory, Snapshot
from localdev.oci_push import push_image
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
    snapshots = [Snapshot.from_json(json.loads(path.read_text()), str(path)) for path in files]
    assert all(len(snapshot.images) == 4 for snapshot in snapshots)
    # Both read an empty history and wanted number 1: the one that lost took number 2, after the winner.
    assert [s.sequence for s in snapshots] == [1, 2]
    assert snapshots[1].previous is not None and snapshots[1].previous.name == files[0].name
    # A third scan compares with the newest and finds nothing moved, and the chain whole.
    third = run_cli(args, tmp_path / "out2")
    assert third.rc == 1 and third.report["history"]["previous_snapshot"] == str(files[1])
    assert not {f["rule_id"] for f in third.report["findings"]} & {"version-tag-moved", "version-deleted",
                                                                    "history-integrity"}


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


def test_stray_file_in_the_history_is_a_finding(small_registry: tuple[LocalRegistry, dict], tmp_path: Path) -> None:
    snapshots = tmp_path / "history" / "snapshots"
    snapshots.mkdir(parents=True)
    (snapshots / "99991231T000000000000Z-garbage.json").write_text('{"format": 1, "images": [')
    run = run_cli(["scan", "--registry", small_registry[0].url, "--history", str(tmp_path / "history"),
                   "--timeout", "2", "--quiet"], tmp_path / "out")
    run.assert_clean_exit()
    assert run.rc == 1 and run.report["complete"] is True
    [stray] = _integrity(run)
    assert "99991231T000000000000Z-garbage.json" in stray["message"] and stray["severity"] == "high"
    assert "{" not in stray["message"]  # what the file holds is never echoed


# ---------------------------------------------------------------------------------------------
# A tampered history, each case on its own registry (the cases move tags)

MOVED = ("models/llm", "v1.0.0")


@pytest.fixture
def registry() -> Iterator[LocalRegistry]:
    with LocalRegistry() as reg:
        seed_small(reg.url)
        yield reg


def _scan(registry: LocalRegistry, history: Path, out: Path) -> CliRun:
    run = run_cli(["scan", "--registry", registry.url, "--history", str(history), "--timeout", "2", "--quiet"], out)
    run.assert_clean_exit()
    return run


def _integrity(run: CliRun) -> list[dict]:
    return [f for f in run.report["findings"] if f["rule_id"] == "history-integrity"]


def _moved(run: CliRun) -> list[dict]:
    return [f for f in run.report["findings"] if f["rule_id"] == "version-tag-moved"]


def _move_a_released_tag(registry: LocalRegistry) -> None:
    push_image(registry.url, MOVED[0], [MOVED[1]], content_seed="replaced content", layer_seed="shared")


def _snapshots(history: Path) -> list[Path]:
    return sorted(p for p in (history / "snapshots").iterdir() if not p.name.startswith("."))


def test_snapshots_are_numbered_and_chained(registry: LocalRegistry, tmp_path: Path) -> None:
    history = tmp_path / "history"
    runs = [_scan(registry, history, tmp_path / f"out{i}") for i in range(3)]
    first, second, third = (json.loads(p.read_text()) for p in _snapshots(history))
    assert [s["sequence"] for s in (first, second, third)] == [1, 2, 3]
    assert first["previous"] is None
    assert second["previous"]["name"] == "000000000001.json" and third["previous"]["sequence"] == 2
    assert all(_integrity(run) == [] for run in runs)
    assert runs[2].report["history"]["previous_snapshot"].endswith("000000000002.json")


def test_an_edited_snapshot_is_found_by_its_successor(registry: LocalRegistry, tmp_path: Path) -> None:
    history = tmp_path / "history"
    for i in range(2):
        _scan(registry, history, tmp_path / f"out{i}")
    first = _snapshots(history)[0]
    document = json.loads(first.read_text())
    document["images"] = [i for i in document["images"] if i["package"] != MOVED[0]]  # hide a version
    first.write_text(json.dumps(document))
    run = _scan(registry, history, tmp_path / "out2")
    [edited] = _integrity(run)
    assert edited["evidence"]["change"] == "edited" and "000000000001.json" in edited["message"]
    assert run.rc == 1


def test_a_deleted_snapshot_is_a_gap_and_a_broken_link(registry: LocalRegistry, tmp_path: Path) -> None:
    history = tmp_path / "history"
    for i in range(3):
        _scan(registry, history, tmp_path / f"out{i}")
    _snapshots(history)[1].unlink()
    run = _scan(registry, history, tmp_path / "out3")
    changes = sorted(f["evidence"]["change"] for f in _integrity(run))
    assert changes == ["missing", "missing"], _integrity(run)  # the gap, and the link of snapshot 3
    # Still missing the night after: the gap is in the history for good, until someone restores it.
    assert [f["evidence"]["change"] for f in _integrity(_scan(registry, history, tmp_path / "out4"))] == ["missing"]


def test_a_misshapen_newest_snapshot_is_passed_over_and_moves_still_found(registry: LocalRegistry,
                                                                        tmp_path: Path) -> None:
    history = tmp_path / "history"
    _scan(registry, history, tmp_path / "out0")
    _move_a_released_tag(registry)
    # The newest snapshot, as someone hiding the move might leave it: the shape of a snapshot, but images
    # is an object, which the reader once took for "no images" (and so saw nothing moved).
    (history / "snapshots" / "000000000002.json").write_text(json.dumps(
        {"format": 1, "taken_at": datetime.now(UTC).isoformat(), "images": {}}))
    run = _scan(registry, history, tmp_path / "out1")
    assert run.report["history"]["previous_snapshot"].endswith("000000000001.json")
    [moved] = _moved(run)
    assert moved["evidence"]["tag"] == MOVED[1]
    [unusable] = _integrity(run)
    assert unusable["evidence"]["change"] == "unusable" and "000000000002.json" in unusable["message"]
    # The chain goes on from the misshapen one: the next scan's snapshot is number 3.
    assert json.loads(_snapshots(history)[-1].read_text())["sequence"] == 3


def test_a_snapshot_dated_in_the_future_does_not_stay_newest(registry: LocalRegistry, tmp_path: Path) -> None:
    history = tmp_path / "history"
    _scan(registry, history, tmp_path / "out0")
    newest = _snapshots(history)[0]
    document = json.loads(newest.read_text())
    document["taken_at"] = (datetime.now(UTC) + timedelta(days=365)).isoformat()  # a clock a year ahead
    newest.write_text(json.dumps(document))
    second = _scan(registry, history, tmp_path / "out1")
    [future] = _integrity(second)
    assert future["evidence"]["change"] == "future-dated"
    _move_a_released_tag(registry)
    # The next scan compares with the snapshot written after the future-dated one, not with it forever.
    third = _scan(registry, history, tmp_path / "out2")
    assert third.report["history"]["previous_snapshot"].endswith("000000000002.json")
    assert [f["evidence"]["tag"] for f in _moved(third)] == [MOVED[1]]
    assert [f["evidence"]["change"] for f in _integrity(third)] == ["time-went-backwards"]
    assert _integrity(_scan(registry, history, tmp_path / "out3")) == []
