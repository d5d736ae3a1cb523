"""`python -m audit check`: the offline policy gate a pull request runs, end to end through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit.formats.json_report import validate

ROOT = Path(__file__).resolve().parents[2]
ORIGINAL = ROOT / "tests/stack/fixtures/original_example.py"


def _check(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict | None]:
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "audit", "check", "--quiet", "--output", str(out), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    report = out / "registry-guard-check.json"
    document = json.loads(report.read_text()) if report.exists() else None
    if document is not None:
        validate(document)
    return proc, document


def test_original_example_is_blocked(tmp_path: Path) -> None:
    proc, doc = _check(tmp_path, "--program", str(ORIGINAL), "--config-value", "gcp:project=demo-project")
    assert proc.returncode == 1, proc.stderr
    assert doc is not None and doc["kind"] == "check"
    blocking = [f for f in doc["findings"] if f["evidence"]["enforcementLevel"] == "mandatory"]
    assert [f["rule_id"] for f in blocking] == ["no-broad-admin"]
    assert "user:member-id@example.com" in blocking[0]["message"]
    # Points at the line of the example that declares the binding, for SARIF and PR annotations.
    assert blocking[0]["source_location"] == "original_example.py#22"
    assert "would be blocked" in proc.stdout


@pytest.mark.parametrize("backend_args", [
    ["--config-value", "model-registry:repositories=[\"llm\",\"vision\"]",
     "--config-value", "model-registry:owner=ml-platform",
     "--config-value", "model-registry:readers=[\"group:serving@example.com\"]",
     "--config-value", "model-registry:writers=[\"serviceAccount:ci@demo-project.iam.gserviceaccount.com\"]"],
    ["--config-value", "model-registry:backend=gcr",
     "--config-value", "model-registry:readers=[\"group:serving@example.com\"]"],
], ids=["artifact-registry", "gcr"])
def test_project_stack_passes_with_no_mandatory_violation(tmp_path: Path, backend_args: list[str]) -> None:
    proc, doc = _check(tmp_path, "--config-value", "gcp:project=demo-project", *backend_args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert doc is not None
    assert [f for f in doc["findings"] if f["evidence"]["enforcementLevel"] == "mandatory"] == []
    assert doc["target"]["resources_checked"] >= 2


def test_stack_config_file_and_pack_config(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n  gcp:project: demo-project\n  model-registry:repositories: [llm]\n"
                          "  model-registry:owner: ml-platform\n")
    pack_config = tmp_path / "pack.json"
    pack_config.write_text(json.dumps({"customer-managed-encryption": "mandatory"}))
    proc, doc = _check(tmp_path, "--stack-config", str(stack_file), "--policy-pack-config", str(pack_config))
    assert proc.returncode == 1  # the stack sets no KMS key and the config made that rule mandatory
    assert doc is not None
    assert {f["rule_id"] for f in doc["findings"]
            if f["evidence"]["enforcementLevel"] == "mandatory"} == {"customer-managed-encryption"}


@pytest.mark.parametrize(("args", "needle"), [
    (["--config-value", "gcp:project=demo-project", "--config-value", "model-registry:readers=[\"allUsers\"]"],
     "model-registry:readers[0]"),
    (["--config-value", "gcp:project=demo-project", "--config-value", "model-registry:backend=ecr"],
     "model-registry:backend"),
    (["--config-value", "nonsense"], "KEY=VALUE"),
])
def test_bad_stack_config_is_one_line_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    proc, _ = _check(tmp_path, *args)
    lines = [line for line in proc.stderr.splitlines() if line.strip() and "Warning" not in line
             and "warnings.warn" not in line]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and needle in lines[0], proc.stderr


def test_bad_pack_config_is_rejected(tmp_path: Path) -> None:
    pack_config = tmp_path / "pack.json"
    pack_config.write_text(json.dumps({"version-tag-required": {"versionTagPattern": 5}}))
    proc, _ = _check(tmp_path, "--config-value", "gcp:project=demo-project",
                     "--policy-pack-config", str(pack_config))
    assert proc.returncode == 2
    assert "versionTagPattern" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("content", [b"\xff\xfe\x00 not text", b"config: " + b"[" * 50_000 + b"]" * 50_000],
                         ids=["binary", "nested-too-deeply"])
def test_unreadable_stack_config_file_is_one_line_exit_2(tmp_path: Path, content: bytes) -> None:
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_bytes(content)
    proc, _ = _check(tmp_path, "--stack-config", str(stack_file))
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and "Pulumi.dev.yaml" in lines[0] and "Traceback" not in proc.stderr
