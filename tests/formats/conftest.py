"""Fixtures for the report format tests (see format_fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest
from format_fixtures import empty_report, incomplete_report, sample_report

from audit.report import Report


@pytest.fixture
def report() -> Report:
    return sample_report()


@pytest.fixture
def incomplete() -> Report:
    return incomplete_report()


@pytest.fixture
def empty() -> Report:
    return empty_report()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """A real scan of the seeded local estate (the demo's): registry, GCS emulator, Artifact Registry
    stand-in, a stack export and two scans for history, so every format is tested on one real scan."""
    import json

    from audit.cli import main
    from audit.report import report_from_json
    from audit.sources.stack_program import run_stack_program
    from localdev import demo_estate
    from localdev.artifact_registry import ArtifactRegistryFake
    from localdev.gcs_emulator import GcsEmulator
    from localdev.oci_registry import LocalRegistry
    from localdev.stack_export import stack_export_document

    tmp = tmp_path_factory.mktemp("demo-scan")
    root = Path(__file__).resolve().parents[2]
    run = run_stack_program(root / "__main__.py", {
        "gcp:project": demo_estate.PROJECT, "model-registry:location": demo_estate.LOCATION,
        "model-registry:repositories": json.dumps(["models-hardened", "models-risky"]),
        "model-registry:owner": "ml-platform",
        "model-registry:readers": json.dumps(["group:ml-readers@example.com"]),
    })
    export = tmp / "stack.json"
    export.write_text(json.dumps(stack_export_document(run, demo_estate.PROJECT)))
    with LocalRegistry() as registry, GcsEmulator(project=demo_estate.PROJECT) as gcs, \
            ArtifactRegistryFake() as ar:
        seeded = demo_estate.seed_oci(registry.url)
        risky, hardened = demo_estate.seed_gcs(gcs)
        demo_estate.seed_artifact_registry(ar.estate)
        args = ["scan", "--project", demo_estate.PROJECT, "--location", demo_estate.LOCATION,
                "--artifact-registry-endpoint", ar.endpoint, "--gcr-bucket", risky, "--gcr-bucket", hardened,
                "--registry", registry.url, "--history", str(tmp / "history"), "--desired", str(export),
                "--quiet"]
        main([*args, "--output", str(tmp / "1")])
        demo_estate.tamper_oci(registry.url, seeded)
        main([*args, "--output", str(tmp / "2")])
    return report_from_json(json.loads((tmp / "2" / "registry-guard-scan.json").read_text()))
