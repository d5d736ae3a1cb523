"""run_offline_check end to end: a Pulumi program under mocks, judged by the real pack process."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from audit.offline_check.analyzer import PolicyConfigError, Violation
from audit.offline_check.check import run_offline_check, to_finding

from .conftest import PACK_DIR

# The user's original example, verbatim apart from line breaks.
ORIGINAL_EXAMPLE = textwrap.dedent("""
    import pulumi
    import pulumi_gcp as gcp

    project_id = gcp.config.project
    location = gcp.config.zone
    ai_model_registry = gcp.container.Registry("aiModelRegistry", project=project_id)
    iam_policy = gcp.storage.BucketIAMBinding("aiModelRegistryIAMPolicy",
        bucket=ai_model_registry.id,
        role="roles/storage.admin",
        members=["user:member-id@example.com"])
    pulumi.export("registry_url", ai_model_registry.id.apply(lambda id: f"gcr.io/{id}"))
""")


@pytest.fixture(scope="module")
def example_program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("original-example")
    (directory / "__main__.py").write_text(ORIGINAL_EXAMPLE)
    (directory / "Pulumi.yaml").write_text("name: ai-models\nruntime: python\n")
    return directory


def test_original_example_offline(example_program: Path) -> None:
    result = run_offline_check(example_program, {"gcp:project": "ml-prod"}, PACK_DIR)
    print(
        f"\noffline check: {result.resources_checked} resources, pack start {result.pack_start_seconds:.2f}s"
    )
    assert result.policy_pack == "model-registry-guard"
    admin = [f for f in result.findings if f.rule_id == "no-broad-admin"]
    assert len(admin) == 1
    assert admin[0].evidence == {"enforcementLevel": "mandatory", "policyPack": "model-registry-guard"}
    assert admin[0].resource.endswith("::aiModelRegistryIAMPolicy")
    assert "roles/storage.admin" in admin[0].message
    assert {f.rule_id for f in result.mandatory} == {"no-broad-admin"}
    assert "legacy-gcr" in {f.rule_id for f in result.findings}
    assert not result.undetermined


def test_pack_config_applies_offline(example_program: Path) -> None:
    result = run_offline_check(
        example_program,
        {"gcp:project": "ml-prod"},
        PACK_DIR,
        {"no-broad-admin": "advisory", "legacy-gcr": "disabled"},
    )
    assert {(f.rule_id, f.evidence["enforcementLevel"]) for f in result.findings} >= {
        ("no-broad-admin", "advisory")
    }
    assert not [f for f in result.findings if f.rule_id == "legacy-gcr"]
    assert not result.mandatory


def test_bad_pack_config_offline(example_program: Path) -> None:
    with pytest.raises(PolicyConfigError, match="'versionTagPattern'"):
        run_offline_check(
            example_program,
            {"gcp:project": "ml-prod"},
            PACK_DIR,
            {"version-tag-required": {"versionTagPattern": 5}},
        )


def test_undetermined_violation_maps_to_a_marked_finding() -> None:
    violation = Violation(
        "no-public-access",
        "model-registry-guard",
        "advisory",
        "",
        "can't run policy 'no-public-access' ... could not judge",
        "urn:x",
    )
    finding = to_finding(violation)
    assert finding.rule_id == "no-public-access" and finding.resource == "urn:x"
    assert finding.evidence == {
        "enforcementLevel": "advisory",
        "policyPack": "model-registry-guard",
        "undetermined": True,
    }
