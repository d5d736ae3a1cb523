"""The Cloud Run job's entrypoint script, run for real: `sh -c WRAPPER_SCRIPT` with the job's kind of
arguments, the real `python -m audit scan`, and the real google-cloud-storage client against the GCS
emulator. Reports land create-only under reports/<date>/<execution>/task-<n>/ and the audit's exit
code is what the job reports."""

from __future__ import annotations

import datetime
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


def _run(gcs: GcsEmulator, tmp_path: Path, *args: str, execution: str = "registry-guard-audit-x7k2p") -> (
        subprocess.CompletedProcess[str]):
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "STORAGE_EMULATOR_HOST": gcs.url,
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "TMPDIR": str(tmp_path),
        "REPORT_BUCKET": REPORTS,
        "REPORT_PREFIX": "reports",
        "CLOUD_RUN_EXECUTION": execution,
        "CLOUD_RUN_TASK_INDEX": "0",
        "CLOUD_RUN_TASK_COUNT": "1",
    }
    return subprocess.run(["sh", "-c", WRAPPER_SCRIPT, JOB_NAME, *args], capture_output=True, text=True,
                          env=env, timeout=180, cwd=tmp_path)


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
    report = json.loads(client.bucket(REPORTS).blob(key).download_as_bytes())
    assert report["kind"] == "scan"
    assert "no-public-access" in {f["rule_id"] for f in report["findings"]}

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
