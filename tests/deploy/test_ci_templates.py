"""The GitHub workflow templates under ci-templates/github/: parsed, and the facts that matter asserted
(triggers, least permissions, Workload Identity Federation without key files, the audit commands, pinned
actions)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "ci-templates" / "github"
PULL_REQUEST = TEMPLATES / "pull-request.yml"
NIGHTLY = TEMPLATES / "nightly-audit.yml"


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as true.
    if True in document:
        document["on"] = document.pop(True)
    return dict(document)


def steps(document: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return list(document["jobs"][job]["steps"])


def runs(document: dict[str, Any], job: str) -> str:
    return "\n".join(step.get("run", "") for step in steps(document, job))


def uses(document: dict[str, Any], job: str) -> dict[str, dict[str, Any]]:
    """action (without @version) -> its step."""
    return {step["uses"].split("@")[0]: step for step in steps(document, job) if "uses" in step}


@pytest.mark.parametrize("path", [PULL_REQUEST, NIGHTLY], ids=lambda p: p.name)
def test_no_key_files_and_actions_pinned_by_major_version_at_least(path: Path) -> None:
    text = path.read_text()
    assert "credentials_json" not in text
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in text
    document = load(path)
    assert document["permissions"] == {"contents": "read"}  # least privilege by default
    for job in document["jobs"]:
        for step in steps(document, job):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})", step["uses"]), step["uses"]


def test_nightly_workflow_is_scheduled_and_federated() -> None:
    document = load(NIGHTLY)
    (schedule,) = document["on"]["schedule"]
    assert len(schedule["cron"].split()) == 5
    assert "workflow_dispatch" in document["on"]

    job = document["jobs"]["audit"]
    assert job["permissions"]["id-token"] == "write"
    auth = uses(document, "audit")["google-github-actions/auth"]["with"]
    assert set(auth) == {"workload_identity_provider", "service_account"}

    commands = runs(document, "audit")
    assert "python -m audit scan" in commands
    assert "--history \"gs://${REPORT_BUCKET}/history\"" in commands
    assert "--format sarif" in commands
    assert "uv sync --frozen --no-dev" in commands

    actions = uses(document, "audit")
    assert actions["actions/upload-artifact"]["with"]["path"] == "reports/"
    assert actions["github/codeql-action/upload-sarif"]["with"]["sarif_file"] == "reports/registry-guard-scan.sarif"
    # Authentication comes before the scan; the reports are kept even when the scan exits non-zero.
    order = [step.get("uses", "").split("@")[0] or step.get("name", "") for step in steps(document, "audit")]
    assert order.index("google-github-actions/auth") < order.index("Scan the registry (read-only)")
    assert actions["actions/upload-artifact"]["if"] == "always()"


def test_pull_request_workflow_tests_checks_and_previews() -> None:
    document = load(PULL_REQUEST)
    assert "pull_request" in document["on"]

    assert "./dev test" in runs(document, "test")

    check = runs(document, "policy-check")
    assert 'python -m audit check --stack-config "Pulumi.${STACK}.yaml"' in check
    assert "--format sarif" in check
    sarif = uses(document, "policy-check")["github/codeql-action/upload-sarif"]
    assert sarif["with"]["sarif_file"] == "reports/registry-guard-check.sarif"
    assert document["jobs"]["policy-check"]["permissions"]["security-events"] == "write"

    preview = document["jobs"]["preview"]
    assert preview["permissions"]["id-token"] == "write"
    assert "GCP_WORKLOAD_IDENTITY_PROVIDER" in preview["if"]  # only where credentials exist
    auth = uses(document, "preview")["google-github-actions/auth"]["with"]
    assert set(auth) == {"workload_identity_provider", "service_account"}
    pulumi = uses(document, "preview")["pulumi/actions"]["with"]
    assert pulumi["command"] == "preview"
    assert pulumi["policyPacks"] == "policy-pack"
    assert (ROOT / pulumi["policyPacks"] / "PulumiPolicy.yaml").is_file()


@pytest.mark.parametrize("path", [PULL_REQUEST, NIGHTLY], ids=lambda p: p.name)
def test_uv_version_matches_the_dev_script(path: Path) -> None:
    dev = re.search(r"UV_VERSION=(\S+)", (ROOT / "dev").read_text())
    assert dev is not None
    assert load(path)["env"]["UV_VERSION"] == dev[1]


def test_the_folder_is_documented() -> None:
    readme = (ROOT / "ci-templates" / "README.md").read_text()
    for path in (PULL_REQUEST, NIGHTLY):
        assert f"github/{path.name}" in readme
    assert "ci-templates/github/nightly-audit.yml" in (ROOT / "docs" / "nightly-audit.md").read_text()
