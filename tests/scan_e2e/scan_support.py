"""Real local components for end-to-end audit tests: docker-registry, GCS emulator, AR stand-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from audit.cli import main
from audit.formats.json_report import validate
from localdev import demo_estate
from localdev.artifact_registry import ArtifactRegistryFake
from localdev.gcs_emulator import GcsEmulator
from localdev.oci_registry import LocalRegistry


@dataclass
class Estate:
    registry: LocalRegistry
    gcs: GcsEmulator
    ar: ArtifactRegistryFake
    seeded: demo_estate.SeededOci
    risky_bucket: str
    hardened_bucket: str

    def scan_args(self, tmp: Path, *extra: str) -> list[str]:
        return [
            "scan", "--project", demo_estate.PROJECT, "--location", demo_estate.LOCATION,
            "--artifact-registry-endpoint", self.ar.endpoint,
            "--gcr-bucket", self.risky_bucket, "--gcr-bucket", self.hardened_bucket,
            "--registry", self.registry.url, "--output", str(tmp), "--quiet", *extra,
        ]


@pytest.fixture
def estate() -> Iterator[Estate]:
    """A freshly seeded estate per test: scans that tamper with it must not leak into others."""
    with LocalRegistry() as registry, GcsEmulator(project=demo_estate.PROJECT) as gcs, \
            ArtifactRegistryFake() as ar:
        seeded = demo_estate.seed_oci(registry.url)
        risky, hardened = demo_estate.seed_gcs(gcs)
        demo_estate.seed_artifact_registry(ar.estate)
        yield Estate(registry, gcs, ar, seeded, risky, hardened)


def run_audit(args: list[str], out: Path) -> tuple[int, dict[str, Any]]:
    """Run the CLI in-process; return its exit code and the JSON report, validated against the schema."""
    rc = main(args)
    document = json.loads((out / "registry-guard-scan.json").read_text())
    validate(document)
    return rc, document
