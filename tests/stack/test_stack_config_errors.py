"""Bad config stops the program with the one line a user needs: the key, and what is allowed.

Each case runs the real `__main__.py` through the runner, so these are the messages `pulumi preview`
would print, and nothing is declared before the error.
"""

from __future__ import annotations

import json

import pytest
from stack_helpers import MAIN_PROGRAM, PROJECT, FailStack, with_project

from audit.sources.stack_program import StackProgramError, run_stack_program
from model_registry.config import ALLOWED_KEYS


def test_unknown_backend(stack_error: FailStack) -> None:
    assert stack_error({"backend": "docker-hub"}) == (
        "model-registry:backend: 'docker-hub' is not a backend; allowed: artifact-registry, gcr"
    )


@pytest.mark.parametrize("key", ["readers", "writers", "admins"])
@pytest.mark.parametrize("public", ["allUsers", "allAuthenticatedUsers"])
def test_public_members_are_refused(stack_error: FailStack, key: str, public: str) -> None:
    message = stack_error({key: json.dumps(["group:ml@example.com", public])})
    assert message.startswith(f"model-registry:{key}[1]: {public} makes the registry public; ")


def test_public_member_refused_on_gcr_too(stack_error: FailStack) -> None:
    message = stack_error({"backend": "gcr", "readers": json.dumps(["allUsers"])})
    assert message.startswith("model-registry:readers[0]: allUsers makes the registry public")


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("alice@example.com", "expected one of user:"),
        ("user:alice", "user: needs an email address"),
        ("group:not an email", "group: needs an email address"),
        ("principal://example.com/x", "need an iam.googleapis.com identifier"),
        ("deleted:user:old@example.com?uid=1", "deleted: principals cannot be granted roles"),
    ],
)
def test_malformed_principals(stack_error: FailStack, member: str, reason: str) -> None:
    message = stack_error({"writers": json.dumps([member])})
    assert message.startswith(f"model-registry:writers[0]: {member!r} is not a principal: ")
    assert reason in message


def test_unknown_key_lists_allowed_keys(stack_error: FailStack) -> None:
    message = stack_error({"reader": json.dumps(["group:ml@example.com"])})
    assert message == "model-registry:reader: unknown key; allowed keys are " + ", ".join(ALLOWED_KEYS)


def test_zone_is_not_a_location(stack_error: FailStack) -> None:
    assert stack_error({"location": "us-central1-a"}) == (
        "model-registry:location: 'us-central1-a' is a zone, not a location; "
        "use its region (us-central1) or a multi-region (us, europe, asia)"
    )


def test_missing_project() -> None:
    config = with_project({})
    del config["gcp:project"]
    with pytest.raises(StackProgramError) as excinfo:
        run_stack_program(MAIN_PROGRAM, config)
    assert str(excinfo.value) == (
        "gcp:project: required; set it with `pulumi config set gcp:project <PROJECT_ID>`"
    )
    assert excinfo.value.error_type == "ConfigError"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"readers": "group:ml@example.com"}, "model-registry:readers: expected a list of IAM principals"),
        ({"readers": json.dumps({"a": 1})}, "model-registry:readers: expected a list of IAM principals"),
        (
            {"readers": json.dumps(["group:ml@example.com", "group:ML@example.com"])},
            "model-registry:readers[1]: group:ML@example.com is already listed as readers[0]",
        ),
        ({"location": "moon"}, "model-registry:location: 'moon' is not an Artifact Registry location"),
        ({"repositories": "[]"}, "model-registry:repositories: expected a non-empty list"),
        (
            {"repositories": json.dumps(["LLM"])},
            "model-registry:repositories[0].name: 'LLM' is not a repository id",
        ),
        (
            {"repositories": json.dumps(["llm", "llm"])},
            "model-registry:repositories[1].name: repository 'llm' is",
        ),
        (
            {"repositories": json.dumps([{"name": "llm", "owner": "x"}])},
            "model-registry:repositories[0].owner: unknown",
        ),
        ({"labels": json.dumps({"Team": "x"})}, "model-registry:labels.Team: not a label key"),
        (
            {"labels": json.dumps({"team": "ML Platform"})},
            "model-registry:labels.team: 'ML Platform' is not a label",
        ),
        ({"labels": json.dumps({"goog-x": "y"})}, "model-registry:labels.goog-x: not a label key"),
        ({"owner": "ML Platform"}, "model-registry:owner: 'ML Platform' is not a label value"),
        (
            {"owner": "a", "labels": json.dumps({"owner": "b"})},
            "model-registry:labels.owner: 'b' contradicts model-registry:owner 'a'",
        ),
        (
            {"untaggedRetentionDays": "0"},
            "model-registry:untaggedRetentionDays: expected a whole number from 1",
        ),
        (
            {"untaggedRetentionDays": "two weeks"},
            "model-registry:untaggedRetentionDays: expected a whole number",
        ),
        ({"keepRecentVersions": "-1"}, "model-registry:keepRecentVersions: expected a whole number from 1"),
        ({"cleanupDryRun": "yes"}, "model-registry:cleanupDryRun: expected true or false, got 'yes'"),
        ({"versionTagPrefixes": "[]"}, "model-registry:versionTagPrefixes: must not be empty"),
        (
            {"versionTagPrefixes": json.dumps([".v"])},
            "model-registry:versionTagPrefixes[0]: '.v' cannot start",
        ),
        ({"kmsKeyName": "my-key"}, "model-registry:kmsKeyName: expected projects/<project>/locations/"),
        (
            {"kmsKeyName": f"projects/{PROJECT}/locations/europe-west4/keyRings/r/cryptoKeys/k"},
            "model-registry:kmsKeyName: the key is in europe-west4 but the repositories are in us-central1",
        ),
        ({"gcp:project": "My Project"}, "gcp:project: 'My Project' is not a project id"),
        (
            {"backend": "artifact-registry", "gcrLocation": "EU"},
            "model-registry:gcrLocation: only applies to backend gcr",
        ),
    ],
)
def test_bad_values_name_the_key(stack_error: FailStack, config: dict[str, str], expected: str) -> None:
    assert stack_error(config).startswith(expected)


def test_nothing_is_declared_before_a_config_error() -> None:
    """The error comes from parsing, before the component exists: a half-built registry is never previewed."""
    with pytest.raises(StackProgramError) as excinfo:
        run_stack_program(
            MAIN_PROGRAM, with_project({"readers": json.dumps(["group:ml@example.com", "allUsers"])})
        )
    assert excinfo.value.declared == ()
