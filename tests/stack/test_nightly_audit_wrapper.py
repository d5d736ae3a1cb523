"""The Cloud Run job's entrypoint script, run for real: `sh -c WRAPPER_SCRIPT` with the job's kind of
arguments, the real `python -m audit scan`, and the real google-cloud-storage client against the GCS
emulator. Reports land create-only under reports/<date>/<execution>/task-<n>/ with their manifest, the
audit's exit code is what the job reports, the inputs the stack stored are passed to the scan, and with
more than one task the last to finish stores the merged report."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.gcs_emulator import GcsEmulator, create_bucket, create_gcr_bucket, gcr_bucket_name
from model_registry.nightly_audit import JOB_NAME, WRAPPER_SCRIPT

PROJECT = "audit-project"
REPORTS = "audit-project-registry-guard-reports"


@pytest.fixture
def gcs() -> Iterator[GcsEmulator]:
    with GcsEmulator(project=PROJECT) as emu:
        yield emu


def _run(gcs: GcsEmulator, tmp_path: Path, *args: str, execution: str = "registry-guard-audit-x7k2p",
         task: tuple[int, int] = (0, 1), extra_env: dict[str, str] | None = None) -> (
        subprocess.CompletedProcess[str]):
    work = tmp_path / f"task-{task[0]}"  # each Cloud Run task has its own /tmp
    work.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "STORAGE_EMULATOR_HOST": gcs.url,
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "TMPDIR": str(work),
        "REPORT_BUCKET": REPORTS,
        "REPORT_PREFIX": "reports",
        "REPORT_FORMATS": "json html",
        "CLOUD_RUN_EXECUTION": execution,
        "CLOUD_RUN_TASK_INDEX": str(task[0]),
        "CLOUD_RUN_TASK_COUNT": str(task[1]),
        **(extra_env or {}),
    }
    return subprocess.run(["sh", "-c", WRAPPER_SCRIPT, JOB_NAME, *args], capture_output=True, text=True,
                          env=env, timeout=180, cwd=work)


def _scan_args() -> list[str]:
    return ["scan", "--gcr-bucket", gcr_bucket_name(PROJECT), "--history", f"gs://{REPORTS}/history",
            "--format", "json", "--fail-on", "high"]


def test_reports_are_uploaded_per_execution_and_exit_code_is_kept(gcs: GcsEmulator, tmp_path: Path) -> None:
    client = gcs.client()
    create_bucket(client, REPORTS, uniform_access=True, public_access_prevention="enforced")
    # A Container Registry bucket with a public grant: findings at high or above, so the audit exits 1.
    create_gcr_bucket(client, PROJECT, uniform_access=True, public_access_prevention="inherited",
                      bindings=[{"role": "roles/storage.objectViewer", "members": ["allUsers"]}])

    first = _run(gcs, tmp_path, *_scan_args())
    assert first.returncode == 1, first.stdout + first.stderr
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    key = f"reports/{today}/registry-guard-audit-x7k2p/task-0/registry-guard-scan.json"
    assert f"registry-guard: stored gs://{REPORTS}/{key}" in first.stdout
    names = sorted(b.name for b in client.list_blobs(REPORTS))
    assert key in names
    assert any(n.startswith("history/") for n in names)
    stored = client.bucket(REPORTS).blob(key).download_as_bytes()
    report = json.loads(stored)
    assert report["kind"] == "scan"
    assert "no-public-access" in {f["rule_id"] for f in report["findings"]}
    # The manifest is stored with the reports and verifies them.
    manifest = client.bucket(REPORTS).blob(key.replace(".json", ".sha256")).download_as_text()
    assert f"{hashlib.sha256(stored).hexdigest()}  registry-guard-scan.json" in manifest.splitlines()

    # The next night is another execution: a new folder, nothing replaced, the history compared.
    second = _run(gcs, tmp_path, *_scan_args(), execution="registry-guard-audit-q9m4z")
    assert second.returncode == 1, second.stdout + second.stderr
    after = sorted(b.name for b in client.list_blobs(REPORTS))
    assert set(names) <= set(after)
    assert f"reports/{today}/registry-guard-audit-q9m4z/task-0/registry-guard-scan.json" in after
    assert len([n for n in after if n.startswith("history/")]) == 2


def test_bad_usage_keeps_exit_2_and_stores_nothing(gcs: GcsEmulator, tmp_path: Path) -> None:
    create_bucket(gcs.client(), REPORTS, uniform_access=True, public_access_prevention="enforced")
    proc = _run(gcs, tmp_path, "scan", "--history", f"gs://{REPORTS}/history")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "nothing to scan" in proc.stderr
    assert list(gcs.client().list_blobs(REPORTS)) == []


def test_clean_scan_whose_reports_cannot_be_stored_exits_4(gcs: GcsEmulator, tmp_path: Path) -> None:
    client = gcs.client()
    create_gcr_bucket(client, PROJECT, uniform_access=True, public_access_prevention="enforced")
    # No report bucket at all: the scan itself is clean (no history), the upload fails.
    proc = _run(gcs, tmp_path, "scan", "--gcr-bucket", gcr_bucket_name(PROJECT), "--format", "json",
                "--fail-on", "critical")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert f"reports not stored in gs://{REPORTS}/reports/" in proc.stderr


def _task_args(*buckets: str) -> list[str]:
    return ["scan", *(a for b in buckets for a in ("--gcr-bucket", b)), "--history", f"gs://{REPORTS}/history",
            "--format", "json", "--format", "html", "--fail-on", "high"]


def _merged(gcs: GcsEmulator, execution: str) -> list[str]:
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    prefix = f"reports/{today}/{execution}/merged/"
    return sorted(b.name.removeprefix(prefix) for b in gcs.client().list_blobs(REPORTS, prefix=prefix))


def test_the_last_task_to_finish_stores_the_merged_report(gcs: GcsEmulator, tmp_path: Path) -> None:
    client = gcs.client()
    create_bucket(client, REPORTS, uniform_access=True, public_access_prevention="enforced")
    public = create_gcr_bucket(client, PROJECT, uniform_access=True, public_access_prevention="inherited",
                               bindings=[{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]).name
    hardened = create_gcr_bucket(client, PROJECT, region="eu", uniform_access=True,
                                 public_access_prevention="enforced").name
    execution = "registry-guard-audit-m3rg3"

    first = _run(gcs, tmp_path, *_task_args(public, hardened), execution=execution, task=(1, 2))
    assert first.returncode in (0, 1), first.stdout + first.stderr
    assert "1 of 2 shard reports stored; the last task merges" in first.stdout
    assert _merged(gcs, execution) == []

    last = _run(gcs, tmp_path, *_task_args(public, hardened), execution=execution, task=(0, 2))
    assert last.returncode == 1, last.stdout + last.stderr  # the merged estate has a public bucket
    assert _merged(gcs, execution) == ["registry-guard-merge.html", "registry-guard-merge.json",
                                       "registry-guard-merge.sha256"]
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    merged = json.loads(client.bucket(REPORTS).blob(
        f"reports/{today}/{execution}/merged/registry-guard-merge.json").download_as_bytes())
    assert merged["kind"] == "merge" and merged["complete"] is True
    assert merged["target"]["shards"]["count"] == 2
    assert "no-public-access" in {f["rule_id"] for f in merged["findings"]}
    # Each shard kept its own report; nothing was replaced.
    names = [b.name for b in client.list_blobs(REPORTS, prefix=f"reports/{today}/{execution}/")]
    assert sum(n.endswith("/registry-guard-scan.json") for n in names) == 2


def test_the_merge_is_incomplete_when_a_shard_was(gcs: GcsEmulator, tmp_path: Path) -> None:
    client = gcs.client()
    create_bucket(client, REPORTS, uniform_access=True, public_access_prevention="enforced")
    create_gcr_bucket(client, PROJECT, uniform_access=True, public_access_prevention="enforced")
    execution = "registry-guard-audit-1nc0m"
    # Both tasks are asked for a bucket that does not exist: whichever shard holds it cannot read it.
    args = _task_args(gcr_bucket_name(PROJECT), "no-such-bucket-registry-guard")
    runs = [_run(gcs, tmp_path, *args, execution=execution, task=(i, 2)) for i in (0, 1)]
    assert sorted(r.returncode for r in runs) == [0, 3], [r.stdout + r.stderr for r in runs]
    assert runs[1].returncode == 3  # the merging task reports the worse of its scan and the merge
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    merged = json.loads(client.bucket(REPORTS).blob(
        f"reports/{today}/{execution}/merged/registry-guard-merge.json").download_as_bytes())
    assert merged["complete"] is False and merged["summary"]["status"] == "incomplete"


def test_the_inputs_the_stack_stored_are_passed_to_the_scan(gcs: GcsEmulator, tmp_path: Path) -> None:
    client = gcs.client()
    create_bucket(client, REPORTS, uniform_access=True, public_access_prevention="enforced")
    create_gcr_bucket(client, PROJECT, uniform_access=True, public_access_prevention="inherited",
                      bindings=[{"role": "roles/storage.objectViewer", "members": ["allUsers"]}])
    waivers = ("waivers:\n  - rule: no-public-access\n    resource: \"bucket:*\"\n"
               "    justification: Public demo models, approved in SEC-1234\n    owner: security@example.com\n"
               "    expires: 2099-12-31\n")
    client.bucket(REPORTS).blob("inputs/waivers-0123456789abcdef.yaml").upload_from_string(waivers)
    proc = _run(gcs, tmp_path, "scan", "--gcr-bucket", gcr_bucket_name(PROJECT), "--format", "json",
                "--fail-on", "high", extra_env={"WAIVERS_OBJECT": "inputs/waivers-0123456789abcdef.yaml"})
    assert f"registry-guard: read gs://{REPORTS}/inputs/waivers-0123456789abcdef.yaml" in proc.stdout
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    report = json.loads(client.bucket(REPORTS).blob(
        f"reports/{today}/registry-guard-audit-x7k2p/task-0/registry-guard-scan.json").download_as_bytes())
    public = [f for f in report["findings"] if f["rule_id"] == "no-public-access"]
    assert public and all(f["waived"] for f in public)
    assert [w["status"] for w in report["waivers"]] == ["active"]


def test_an_input_that_cannot_be_read_stops_the_task(gcs: GcsEmulator, tmp_path: Path) -> None:
    create_bucket(gcs.client(), REPORTS, uniform_access=True, public_access_prevention="enforced")
    proc = _run(gcs, tmp_path, "scan", "--gcr-bucket", gcr_bucket_name(PROJECT), "--format", "json",
                extra_env={"DESIRED_OBJECT": "inputs/desiredState-missing.json"})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "inputs (waivers, settings, desired state) could not be read" in proc.stderr
    assert list(gcs.client().list_blobs(REPORTS, prefix="reports/")) == []
