"""Org scale: --organization, --folder or several --project with --location (repeatable or all) find every
repository and Container Registry bucket through Cloud Asset Inventory, or project by project where the caller
may not search; what neither can list leaves the scan incomplete."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scan_support import run_audit

from localdev.artifact_registry import ArtifactRegistryFake
from localdev.gcs_emulator import GcsEmulator, create_gcr_bucket
from localdev.google_iam import GoogleIamFakes, IamEstate, read_only_violations

warnings.filterwarnings("ignore", category=FutureWarning)

# organization 1 > folder 20 > (ml-prod, ml-dev); organization 1 > other
LAYOUT = {"ml-prod": [("us-central1", "models"), ("europe-west1", "eu-models")],
          "ml-dev": [("us-central1", "scratch")],
          "other": [("us-central1", "tools")]}


@dataclass
class Org:
    ar: ArtifactRegistryFake
    google: GoogleIamFakes
    gcs: GcsEmulator

    def args(self, out: Path, *scope: str) -> list[str]:
        return ["scan", *scope, "--artifact-registry-endpoint", self.ar.endpoint,
                "--asset-endpoint", self.google.asset.endpoint,
                "--resource-manager-endpoint", self.google.resource_manager.endpoint,
                "--output", str(out), "--quiet", "--timeout", "2"]


@pytest.fixture
def org() -> Iterator[Org]:
    estate = IamEstate()
    organization = estate.add_organization("1")
    folder = estate.add_folder("20", organization)
    for number, (project, repos) in enumerate(LAYOUT.items()):
        estate.add_project(project, folder if project.startswith("ml-") else organization, number=str(1001 + number))
        for location, repo in repos:
            estate.add_repository(project, location, repo)
    estate.add_bucket("ml-prod", "artifacts.ml-prod.appspot.com")
    estate.add_bucket("ml-prod", "ml-prod-datasets")  # not a Container Registry bucket
    with ArtifactRegistryFake() as ar, GoogleIamFakes(estate) as google, GcsEmulator(project="ml-prod") as gcs:
        for project, repos in LAYOUT.items():
            for location, repo in repos:
                ar.estate.add_repository(project, location, repo, immutable_tags=True)
        client = gcs.client()
        create_gcr_bucket(client, "ml-prod", uniform_access=True, public_access_prevention="enforced")
        client.create_bucket("ml-prod-datasets")
        yield Org(ar, google, gcs)


def _repositories(report: dict[str, Any]) -> set[str]:
    return {r["name"].split("/", 1)[1] for r in report["inventory"]["repositories"]}


def test_an_organization_in_every_location_through_cloud_asset_inventory(org: Org, tmp_path: Path) -> None:
    rc, report = run_audit(org.args(tmp_path, "--organization", "1", "--location", "all"), tmp_path)
    assert rc == 0 and report["complete"] is True, report["errors"]
    assert _repositories(report) == {"ml-prod/locations/us-central1/repositories/models",
                                     "ml-prod/locations/europe-west1/repositories/eu-models",
                                     "ml-dev/locations/us-central1/repositories/scratch",
                                     "other/locations/us-central1/repositories/tools"}
    assert [b["name"] for b in report["inventory"]["buckets"]] == ["artifacts.ml-prod.appspot.com"]
    assert report["target"]["discovery"]["scopes"] == {"organizations/1": "Cloud Asset Inventory"}
    assert org.google.resource_manager.requests == ()  # nothing listed project by project
    assert list(read_only_violations(org.google.all)) == []


def test_a_folder_in_one_location(org: Org, tmp_path: Path) -> None:
    rc, report = run_audit(org.args(tmp_path, "--folder", "20", "--location", "us-central1"), tmp_path)
    assert rc == 0 and report["complete"] is True, report["errors"]
    assert _repositories(report) == {"ml-prod/locations/us-central1/repositories/models",
                                     "ml-dev/locations/us-central1/repositories/scratch"}


def test_several_projects_and_locations(org: Org, tmp_path: Path) -> None:
    rc, report = run_audit(org.args(tmp_path, "--project", "ml-prod", "--project", "other", "--location",
                                    "europe-west1", "--location", "us-central1"), tmp_path)
    assert rc == 0 and report["complete"] is True, report["errors"]
    assert _repositories(report) == {"ml-prod/locations/us-central1/repositories/models",
                                     "ml-prod/locations/europe-west1/repositories/eu-models",
                                     "other/locations/us-central1/repositories/tools"}


def test_without_cloud_asset_inventory_project_by_project(org: Org, tmp_path: Path) -> None:
    org.google.estate.deny("organizations/1", {"cloudasset.assets.searchAllResources"})
    rc, report = run_audit(org.args(tmp_path, "--organization", "1", "--location", "all"), tmp_path)
    assert rc == 0 and report["complete"] is True, report["errors"]
    assert len(_repositories(report)) == 4
    assert [b["name"] for b in report["inventory"]["buckets"]] == ["artifacts.ml-prod.appspot.com"]
    how = report["target"]["discovery"]["scopes"]["organizations/1"]
    assert how.startswith("listed project by project (Cloud Asset Inventory: Forbidden (403)")
    listed = {r.param("parent") for r in org.google.resource_manager.requests}
    assert listed == {"organizations/1", "folders/20"}


def test_what_cannot_be_listed_is_never_nothing(org: Org, tmp_path: Path) -> None:
    org.google.estate.deny("organizations/1", {"cloudasset.assets.searchAllResources"})
    org.google.estate.deny("folders/20", {"resourcemanager.projects.list"})
    rc, report = run_audit(org.args(tmp_path, "--organization", "1", "--location", "us-central1"), tmp_path)
    assert rc == 3 and report["complete"] is False
    assert any(e["source"] == "discovery" and e["target"] == "folders/20" for e in report["errors"])
    assert _repositories(report) == {"other/locations/us-central1/repositories/tools"}
