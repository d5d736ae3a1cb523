"""Which line of Pulumi.<stack>.yaml set the value a check's violation names (for SARIF regions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit.offline_check.config_lines import config_values, display_path, setting_value

STACK = """\
config:
  gcp:project: my-ml-project
  model-registry:location: us-central1
  writers:
    - serviceAccount:ci@my-ml-project.iam.gserviceaccount.com
    - "user:alice@example.com"
  model-registry:labels:
    team: ml-platform
  model-registry:keepRecentVersions: 10
"""


def test_every_string_value_with_its_region() -> None:
    values = {v.value: v for v in config_values(STACK, "model-registry")}
    alice = values["user:alice@example.com"]
    assert (alice.key, alice.line, alice.column, alice.end_line, alice.end_column) == (
        "model-registry:writers", 6, 7, 6, 31)  # the quoted scalar, quotes included
    assert values["ml-platform"].key == "model-registry:labels"
    assert "10" not in values  # numbers are not names a message quotes


@pytest.mark.parametrize(("message", "expected"), [
    ("user:alice@example.com can write to projects/my-ml-project/locations/us-central1/repositories/llm",
     "user:alice@example.com"),
    ("serviceAccount:ci@my-ml-project.iam.gserviceaccount.com holds roles/artifactregistry.repoAdmin",
     "serviceAccount:ci@my-ml-project.iam.gserviceaccount.com"),
    # The project and location only appear inside a resource path: not what the violation is about.
    ("projects/my-ml-project/locations/us-central1/repositories/llm lacks label(s) owner", None),
    ("user:alice@example.community holds a role", None),  # a longer name is another name
])
def test_the_value_a_message_names(message: str, expected: str | None) -> None:
    found = setting_value(message, config_values(STACK, "model-registry"))
    assert (found.value if found else None) == expected


def test_display_path_is_relative_to_the_program(tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    config = tmp_path / "infra" / "Pulumi.prod.yaml"
    config.write_text(STACK)
    assert display_path(config, tmp_path / "infra") == "Pulumi.prod.yaml"
    assert display_path(config, tmp_path / "infra" / "__main__.py") == "Pulumi.prod.yaml"


def test_a_check_sarif_result_points_at_the_config_line(tmp_path: Path) -> None:
    """End to end: the stack config sets a personal writer; the SARIF result is that line of the file, with
    the value's region, and the component line that declares the grant is related."""
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  gcp:project: demo-project\n  model-registry:writers:\n    - user:alice@example.com\n")
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "audit", "check", "--program", str(root), "--quiet",
                          "--stack-config", "Pulumi.dev.yaml", "--format", "sarif", "--format", "json",
                          "--sarif-path-prefix", "infra", "--output", str(out)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((out / "registry-guard-check.json").read_text())
    (writer,) = [f for f in report["findings"] if f["rule_id"] == "no-personal-writers"]
    assert writer["evidence"]["stack_config"] == {"file": "Pulumi.dev.yaml", "key": "model-registry:writers",
                                                  "line": 4, "column": 7, "end_line": 4, "end_column": 29}
    sarif = json.loads((out / "registry-guard-check.sarif").read_text())
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "no-personal-writers"]
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "infra/Pulumi.dev.yaml"},
        "region": {"startLine": 4, "startColumn": 7, "endLine": 4, "endColumn": 29}}
    related = result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert related == "infra/model_registry/component.py"
    assert sarif["runs"][0]["automationDetails"]["id"].startswith("model-registry-guard/check/dev/")
