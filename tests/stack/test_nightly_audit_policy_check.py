"""The stack with the nightly audit enabled passes the real policy pack through `python -m audit check`
(the gate a pull request runs), and the pack does see the audit's report bucket: a weakened one is blocked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from stack_helpers import REPO_ROOT

AUDIT = json.dumps(
    {"enabled": True, "image": "us-central1-docker.pkg.dev/demo-project/tools/registry-guard:v0.1.0"}
)


def _check(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "audit", "check", "--quiet", "--output", str(out),
         "--config-value", "gcp:project=demo-project", "--config-value", f"model-registry:audit={AUDIT}", *args],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=180,
    )
    report = out / "registry-guard-check.json"
    assert report.exists(), proc.stdout + proc.stderr
    return proc, json.loads(report.read_text())


def _mandatory(document: dict[str, Any]) -> list[str]:
    return [f["rule_id"] for f in document["findings"] if f["evidence"]["enforcementLevel"] == "mandatory"]


@pytest.mark.parametrize(
    "backend_args",
    [
        ["--config-value", "model-registry:owner=ml-platform",
         "--config-value", "model-registry:readers=[\"group:serving@example.com\"]"],
        ["--config-value", "model-registry:backend=gcr"],
    ],
    ids=["artifact-registry", "gcr"],
)
def test_stack_with_audit_passes_the_pack(tmp_path: Path, backend_args: list[str]) -> None:
    proc, document = _check(tmp_path, *backend_args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _mandatory(document) == []
    assert "0 mandatory violation(s)" in proc.stdout
    # The registry's resources plus the audit's ten (component excluded).
    assert document["target"]["resources_checked"] >= 11


def test_pack_blocks_a_report_bucket_without_public_access_prevention(tmp_path: Path) -> None:
    program = tmp_path / "program"
    program.mkdir()
    (program / "__main__.py").write_text(
        "import runpy\n"
        "import pulumi_gcp as gcp\n"
        "_Bucket = gcp.storage.Bucket\n"
        "class WeakBucket(_Bucket):\n"
        "    def __init__(self, resource_name, **kwargs):\n"
        "        kwargs['public_access_prevention'] = 'inherited'\n"
        "        super().__init__(resource_name, **kwargs)\n"
        "gcp.storage.Bucket = WeakBucket\n"
        f"runpy.run_path({str(REPO_ROOT / '__main__.py')!r}, run_name='__main__')\n"
    )
    proc, document = _check(tmp_path, "--program", str(program))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert _mandatory(document) == ["bucket-hardening"]
