"""The mock runner itself: what it captures is what the offline policy check will judge."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from stack_helpers import (
    AR_REPOSITORY,
    BUCKET_IAM_BINDING,
    FIXTURES,
    GCR_REGISTRY,
    MAIN_PROGRAM,
    PROJECT,
    with_project,
)

from audit.sources.stack_program import StackProgramError, run_stack_program


def test_captures_the_users_original_example() -> None:
    """The policy pack will be asserted to block this; here: the runner sees it exactly."""
    run = run_stack_program(FIXTURES / "original_example.py", {"gcp:project": PROJECT})

    assert [r.type for r in run.resources] == [GCR_REGISTRY, BUCKET_IAM_BINDING]
    registry = run.named("aiModelRegistry")
    binding = run.named("aiModelRegistryIAMPolicy")
    assert registry.inputs == {"project": PROJECT}
    assert registry.custom is True
    assert binding.inputs == {
        "bucket": f"artifacts.{PROJECT}.appspot.com",  # the Registry's id, resolved by the mocks
        "role": "roles/storage.admin",
        "members": ["user:member-id@example.com"],
    }
    assert binding.property_dependencies["bucket"] == (registry.urn,)
    assert binding.dependencies == (registry.urn,)
    # Engine-style URNs: no pulumi:pulumi:Stack$ in the type chain; parent is the root stack.
    assert registry.urn == f"urn:pulumi:dev::model-registry::{GCR_REGISTRY}::aiModelRegistry"
    assert binding.urn == f"urn:pulumi:dev::model-registry::{BUCKET_IAM_BINDING}::aiModelRegistryIAMPolicy"
    assert (
        registry.parent
        == run.stack_urn
        == "urn:pulumi:dev::model-registry::pulumi:pulumi:Stack::model-registry-dev"
    )
    # The example's export bug, reproduced: the bucket name is not a registry host path.
    assert run.outputs == {"registry_url": f"gcr.io/artifacts.{PROJECT}.appspot.com"}
    # Captured inputs are plain JSON data, ready for a policy or a file.
    assert json.loads(json.dumps([r.inputs for r in run.resources])) == [r.inputs for r in run.resources]


def test_nested_components_warnings_and_secrets() -> None:
    run = run_stack_program(FIXTURES / "nested_components.py", {}, project="other", stack="prod")
    grant = run.named("outer-inner-grant")
    assert grant.urn == (
        "urn:pulumi:prod::other::test:index:Outer$test:index:Inner$"
        "gcp:storage/bucketIAMMember:BucketIAMMember::outer-inner-grant"
    )
    inner = run.named("outer-inner")
    assert inner.urn == "urn:pulumi:prod::other::test:index:Outer$test:index:Inner::outer-inner"
    assert grant.parent == inner.urn
    assert inner.parent == run.named("outer").urn
    assert inner.custom is False and grant.custom is True
    assert run.warnings == ("first warning", "an error is collected too")
    assert run.outputs == {"secret_value": "s3cr3t"}


def test_two_runs_in_one_process_do_not_leak() -> None:
    first = run_stack_program(
        MAIN_PROGRAM, with_project({"repositories": json.dumps(["a-models", "b-models"])}), stack="one"
    )
    second = run_stack_program(MAIN_PROGRAM, with_project({"backend": "gcr"}), stack="two")
    assert len(first.of_type(AR_REPOSITORY)) == 2
    assert second.of_type(AR_REPOSITORY) == ()
    assert len(second.of_type(GCR_REGISTRY)) == 1
    assert all(r.urn.startswith("urn:pulumi:two::") for r in second.resources)
    assert first.warnings == () and len(second.warnings) == 1
    # Config set for a run does not outlive it.
    from pulumi.runtime import config as runtime_config

    assert "model-registry:backend" not in runtime_config.CONFIG.get()


def test_failure_is_one_clean_exception_and_the_next_run_works() -> None:
    with pytest.raises(StackProgramError) as excinfo:
        run_stack_program(MAIN_PROGRAM, with_project({"backend": "s3"}))
    assert excinfo.value.error_type == "ConfigError"
    assert excinfo.value.__cause__ is not None
    run = run_stack_program(MAIN_PROGRAM, with_project({}))
    assert len(run.of_type(AR_REPOSITORY)) == 1


def test_failure_inside_apply_and_sys_exit(tmp_path: Path) -> None:
    program = tmp_path / "apply_fails.py"
    program.write_text(
        "import pulumi, pulumi_gcp as gcp\n"
        "r = gcp.container.Registry('r', project='p-123456')\n"
        "def boom(_):\n    raise ValueError('bad value in apply\\nsecond line')\n"
        "pulumi.export('x', r.id.apply(boom))\n"
    )
    with pytest.raises(StackProgramError) as excinfo:
        run_stack_program(program, {})
    assert str(excinfo.value) == "bad value in apply"
    assert [r.type for r in excinfo.value.declared] == [GCR_REGISTRY]

    exits = tmp_path / "exits.py"
    exits.write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(StackProgramError, match="program exited with status 3"):
        run_stack_program(exits, {})


def test_environment_config_does_not_leak_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stray PULUMI_CONFIG in the test environment must not change the run, and is restored after."""
    stray = json.dumps({"model-registry:backend": "gcr", "model-registry:typo": "x"})
    monkeypatch.setenv("PULUMI_CONFIG", stray)
    run = run_stack_program(MAIN_PROGRAM, with_project({}))
    assert len(run.of_type(AR_REPOSITORY)) == 1
    assert os.environ["PULUMI_CONFIG"] == stray


def test_missing_program_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        run_stack_program(tmp_path / "nope.py", {})


def test_runs_after_asyncio_run_elsewhere_in_the_process() -> None:
    """asyncio.run() (e.g. a registry scan) leaves no current event loop; the runner brings its own."""
    import asyncio

    async def scan() -> int:
        return 1

    assert asyncio.run(scan()) == 1
    run = run_stack_program(MAIN_PROGRAM, with_project({}))
    assert len(run.of_type(AR_REPOSITORY)) == 1
    assert asyncio.run(scan()) == 1
