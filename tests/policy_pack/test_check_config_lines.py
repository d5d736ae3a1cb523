"""Which line of Pulumi.<stack>.yaml set the value a check's violation names (for SARIF regions)."""

from __future__ import annotations

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
