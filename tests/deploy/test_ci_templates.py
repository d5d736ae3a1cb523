"""The GitHub workflow templates under ci-templates/github/: checked by actionlint (with shellcheck on every
`run:` script), parsed, and the facts that matter asserted (triggers, least permissions, Workload Identity
Federation without key files, actions pinned to commit SHAs, no persisted checkout credentials, the audit
commands, the report in the job summary)."""

from __future__ import annotations

import re
import subprocess
import sys
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


# The linters come with the dev dependencies (pyproject.toml), next to this interpreter.
BIN = Path(sys.executable).parent
ACTIONLINT = BIN / "actionlint"
SHELLCHECK = BIN / "shellcheck"


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.is_file() and SHELLCHECK.is_file(), "uv sync installs actionlint and shellcheck (dev group)"
    return subprocess.run([str(ACTIONLINT), "-no-color", "-shellcheck", str(SHELLCHECK), *map(str, paths)],
                          capture_output=True, text=True, timeout=120)


def test_actionlint_and_shellcheck_find_nothing() -> None:
    proc = actionlint(PULL_REQUEST, NIGHTLY)
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr


def test_actionlint_runs_shellcheck(tmp_path: Path) -> None:
    """The check above can fail: the error the templates had (exit with an expression, SC2242) is found."""
    workflow = tmp_path / "bad.yml"
    workflow.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
                        "      - id: s\n        run: echo code=1 >> \"$GITHUB_OUTPUT\"\n"
                        "      - run: exit \"${{ steps.s.outputs.code }}\"\n")
    proc = actionlint(workflow)
    assert proc.returncode == 1 and "SC2242" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", [PULL_REQUEST, NIGHTLY], ids=lambda p: p.name)
def test_no_key_files_and_actions_pinned_to_commits(path: Path) -> None:
    text = path.read_text()
    assert "credentials_json" not in text
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in text
    document = load(path)
    assert document["permissions"] == {"contents": "read"}  # least privilege by default
    for job in document["jobs"]:
        for step in steps(document, job):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    # Each pin says which release it is, on its own line.
    for line in text.splitlines():
        if "uses:" in line:
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line
    # One action, one pin, in both templates alike.
    pins: dict[str, set[str]] = {}
    for other in (PULL_REQUEST, NIGHTLY):
        for action, sha in re.findall(r"uses: ([\w./-]+)@([0-9a-f]{40})", other.read_text()):
            pins.setdefault(action, set()).add(sha)
    assert all(len(shas) == 1 for shas in pins.values()), pins


@pytest.mark.parametrize("path", [PULL_REQUEST, NIGHTLY], ids=lambda p: p.name)
def test_checkout_never_persists_credentials(path: Path) -> None:
    document = load(path)
    checkouts = [step for job in document["jobs"] for step in steps(document, job)
                 if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


@pytest.mark.parametrize(("path", "job", "report"), [
    (PULL_REQUEST, "policy-check", "reports/registry-guard-check.md"),
    (NIGHTLY, "audit", "reports/registry-guard-scan.md"),
], ids=["pull-request", "nightly"])
def test_the_markdown_report_goes_to_the_job_summary(path: Path, job: str, report: str) -> None:
    document = load(path)
    assert "--format markdown" in runs(document, job)
    (summary,) = [s for s in steps(document, job) if "GITHUB_STEP_SUMMARY" in s.get("run", "")]
    assert summary["if"] == "always()"
    assert f'cat {report} >> "$GITHUB_STEP_SUMMARY"' in summary["run"]


@pytest.mark.parametrize(("path", "job"), [(PULL_REQUEST, "policy-check"), (NIGHTLY, "audit")],
                         ids=["pull-request", "nightly"])
def test_the_sarif_category_is_passed_to_the_audit(path: Path, job: str) -> None:
    """upload-sarif sets its category only when the file has none, and the audit always writes one: the
    template names it on the command line, and the same one to upload-sarif."""
    document = load(path)
    command = runs(document, job)
    match = re.search(r'--sarif-category "([^"]+)"', command)
    assert match is not None
    upload = uses(document, job)["github/codeql-action/upload-sarif"]["with"]["category"]
    as_shell = re.sub(r"\$\{\{ env\.(\w+) \}\}", r"${\1}", upload)
    assert as_shell == match[1]


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
