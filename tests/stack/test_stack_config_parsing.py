"""Config parsing without Pulumi, plus how the program finds its raw config in a real run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from registry_guard.catalogue.settings import DEFAULT_VERSION_TAG_PATTERN
from stack_helpers import AR_REPOSITORY, MAIN_PROGRAM, REPO_ROOT

from audit.sources.stack_program import run_stack_program
from model_registry.config import (
    ALLOWED_KEYS,
    DEFAULT_VERSION_TAG_PREFIXES,
    ConfigError,
    config_namespace,
    parse_config,
)


@given(st.from_regex(DEFAULT_VERSION_TAG_PATTERN, fullmatch=True))
def test_default_prefixes_keep_every_default_version_tag(tag: str) -> None:
    """cleanup-keeps-versions: every tag the policy pack calls a version is kept by default."""
    assert tag.startswith(DEFAULT_VERSION_TAG_PREFIXES)


def test_defaults() -> None:
    config = parse_config({"gcp:project": "my-project"})
    assert config.backend == "artifact-registry"
    assert config.gcr is None
    ar = config.artifact_registry
    assert ar is not None
    assert ar.location == "us-central1"
    assert [r.name for r in ar.repositories] == ["models"]
    assert (ar.cleanup.untagged_retention_days, ar.cleanup.keep_recent_versions) == (14, 10)
    assert ar.cleanup.dry_run is False
    assert ar.kms_key_name is None
    assert config.members.admins == ()


def test_namespace_follows_the_project_name() -> None:
    config = parse_config({"gcp:project": "my-project", "other:backend": "gcr"}, namespace="other")
    assert config.backend == "gcr"
    with pytest.raises(ConfigError, match=r"^other:bakend: unknown key"):
        parse_config({"gcp:project": "my-project", "other:bakend": "gcr"}, namespace="other")


def test_already_decoded_values_are_accepted() -> None:
    """The automation API and tests may pass real lists, numbers and booleans instead of strings."""
    config = parse_config(
        {
            "gcp:project": "my-project",
            "model-registry:readers": ["group:a@example.com"],
            "model-registry:untaggedRetentionDays": 7,
            "model-registry:cleanupDryRun": True,
        }
    )
    assert config.members.readers == ("group:a@example.com",)
    assert config.artifact_registry is not None
    assert config.artifact_registry.cleanup.untagged_retention_days == 7
    assert config.artifact_registry.cleanup.dry_run is True
    with pytest.raises(ConfigError, match=r"^model-registry:keepRecentVersions: expected a whole number"):
        parse_config({"gcp:project": "my-project", "model-registry:keepRecentVersions": True})


def test_config_namespace_reads_the_cli_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI hands config to the program in PULUMI_CONFIG; in-process config (automation API) wins."""
    from pulumi.runtime import config as runtime_config

    monkeypatch.setenv(
        "PULUMI_CONFIG", json.dumps({"model-registry:typo": "x", "gcp:project": "env-project"})
    )
    token = runtime_config.CONFIG.set({"gcp:project": "inline-project"})
    try:
        namespace = config_namespace()
    finally:
        runtime_config.CONFIG.reset(token)
    assert namespace == {"model-registry:typo": "x", "gcp:project": "inline-project"}
    with pytest.raises(ConfigError, match=r"^model-registry:typo: unknown key"):
        parse_config(namespace)


def _cli_config(stack_file: Path) -> dict[str, str]:
    """Config values the way the Pulumi CLI passes them to a program: strings, objects as JSON."""
    raw = yaml.safe_load(stack_file.read_text())["config"]
    return {
        key: value
        if isinstance(value, str)
        else json.dumps(value).lower()
        if isinstance(value, bool)
        else json.dumps(value)
        if isinstance(value, list | dict)
        else str(value)
        for key, value in raw.items()
    }


def test_example_stack_config_is_valid_and_documents_every_key() -> None:
    example = REPO_ROOT / "Pulumi.example.yaml"
    text = example.read_text()
    for key in ALLOWED_KEYS:
        assert re.search(rf"^\s*#?\s*model-registry:{key}:", text, re.MULTILINE), f"{key} undocumented"

    run = run_stack_program(MAIN_PROGRAM, _cli_config(example), stack="example")
    assert sorted(r.inputs["repositoryId"] for r in run.of_type(AR_REPOSITORY)) == ["llm", "vision"]
    assert len(run.resources) == 1 + 2 + 2 * 4  # component, repositories, 4 grants on each


def test_pulumi_yaml_names_the_project_and_runtime() -> None:
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "model-registry"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}
