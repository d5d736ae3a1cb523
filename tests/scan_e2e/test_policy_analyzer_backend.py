"""The Policy Analyzer backend (scan --effective-access policy-analyzer --organization ID) and the local one
(Resource Manager and IAM read by the audit) agree on the same estate: the same principals, capabilities and
paths (where, role, condition, hop) on every repository and bucket. A caller who may not use Policy Analyzer
gets the local backend, and the report says so."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scan_support import run_audit

from audit.cli import main
from localdev.artifact_registry import ArtifactRegistryFake, binding
from localdev.gcs_emulator import GcsEmulator, create_gcr_bucket
from localdev.google_iam import GoogleIamFakes, IamEstate, read_only_violations

warnings.filterwarnings("ignore", category=FutureWarning)

CI = "ci@ml-prod.iam.gserviceaccount.com"
DEPLOYER = "deployer@tools-prj.iam.gserviceaccount.com"
RELEASE = "release@tools-prj.iam.gserviceaccount.com"  # may act as DEPLOYER: a chain of two accounts
UNTIL = {"condition_expression": "request.time < timestamp('2027-01-01T00:00:00Z')", "condition_title": "until 2027"}


@dataclass
class Org:
    ar: ArtifactRegistryFake
    google: GoogleIamFakes
    gcs: GcsEmulator

    def args(self, out: Path, backend: str) -> list[str]:
        return ["scan", "--organization", "1", "--location", "us-central1", "--effective-access", backend,
                "--artifact-registry-endpoint", self.ar.endpoint, "--asset-endpoint", self.google.asset.endpoint,
                "--resource-manager-endpoint", self.google.resource_manager.endpoint,
                "--iam-endpoint", self.google.iam.endpoint, "--output", str(out), "--quiet", "--timeout", "5"]


@pytest.fixture
def org() -> Iterator[Org]:
    estate = IamEstate()
    organization = estate.add_organization("1")
    top = estate.add_folder("20", organization)
    estate.add_project("ml-prod", estate.add_folder("21", top), number="1001")
    estate.add_project("tools-prj", organization, number="1002")
    estate.set_policy(organization, [binding("roles/artifactregistry.admin", ["group:admins@example.com"]),
                                     binding("roles/viewer", ["domain:example.com"], **UNTIL)])
    estate.set_policy(top, [binding("roles/editor", ["group:devs@example.com"])])
    estate.add_custom_role("organizations/1", "pusher", ["artifactregistry.repositories.uploadArtifacts",
                                                         "artifactregistry.tags.update"])
    estate.set_policy("folders/21", [binding("organizations/1/roles/pusher", ["group:ml@example.com"])])
    estate.set_policy("projects/ml-prod", [binding("roles/resourcemanager.projectIamAdmin", ["user:owner@example.com"]),
                                           binding("roles/iam.serviceAccountUser", ["user:carol@example.com"])])
    estate.add_service_account("ml-prod", "ci")
    estate.add_service_account("tools-prj", "deployer")
    estate.add_service_account("tools-prj", "release")
    estate.set_policy(f"projects/ml-prod/serviceAccounts/{CI}",
                      [binding("roles/iam.serviceAccountTokenCreator", ["user:dave@example.com"])])
    estate.set_policy(f"projects/tools-prj/serviceAccounts/{DEPLOYER}",
                      [binding("roles/iam.serviceAccountKeyAdmin", ["user:erin@example.com"]),
                       binding("roles/iam.serviceAccountTokenCreator", [f"serviceAccount:{RELEASE}"])])
    estate.set_policy(f"projects/tools-prj/serviceAccounts/{RELEASE}",
                      [binding("roles/iam.serviceAccountTokenCreator", ["user:frank@example.com"])])
    repos = {"models": [binding("roles/artifactregistry.writer", [f"serviceAccount:{CI}"]),
                        binding("roles/artifactregistry.reader", ["allUsers"])],
             "scratch": [binding("roles/artifactregistry.repoAdmin", [f"serviceAccount:{DEPLOYER}"])]}
    with ArtifactRegistryFake() as ar, GoogleIamFakes(estate) as google, GcsEmulator(project="ml-prod") as gcs:
        for repo, bindings in repos.items():
            name = ar.estate.add_repository("ml-prod", "us-central1", repo, immutable_tags=True)
            ar.estate.set_iam_policy(name, bindings)
            estate.add_repository("ml-prod", "us-central1", repo, bindings)  # the same policy, as Cloud Asset has it
        bucket = create_gcr_bucket(
            gcs.client(), "ml-prod", uniform_access=True, public_access_prevention="enforced",
            bindings=[{"role": "roles/storage.objectViewer", "members": ["group:readers@example.com"]},
                      {"role": "roles/storage.legacyBucketWriter", "members": [f"serviceAccount:{CI}"]}])
        # ACLs apply where uniform access is off: Policy Analyzer does not see them, the audit reads them.
        legacy = create_gcr_bucket(
            gcs.client(), "ml-prod", region="eu", uniform_access=False,
            acl=[("group-acl-writers@example.com", "WRITER")],
            bindings=[{"role": "roles/storage.objectViewer", "members": ["group:eu@example.com"]}])
        for each in (bucket, legacy):
            live = each.get_iam_policy(requested_policy_version=3)  # whatever the bucket holds, Cloud Asset holds
            estate.add_bucket("ml-prod", each.name, bindings=[{"role": b["role"], "members": sorted(b["members"])}
                                                             for b in live.bindings])
        yield Org(ar, google, gcs)


def _matrix(report: dict[str, Any]) -> dict[str, set[tuple[str, str, str]]]:
    """resource -> {(member, capability, one path as JSON)}."""
    return {r["resource"]: {(p["member"], capability, json.dumps(path, sort_keys=True))
                            for p in r["principals"] for capability, paths in p["capabilities"].items()
                            for path in paths}
            for r in report["access"]["resources"]}


def test_both_backends_agree_on_the_same_estate(org: Org, tmp_path: Path) -> None:
    local_rc, local = run_audit(org.args(tmp_path / "local", "local"), tmp_path / "local")
    analyzer_rc, analyzer = run_audit(org.args(tmp_path / "analyzer", "policy-analyzer"), tmp_path / "analyzer")
    assert local["complete"] and analyzer["complete"], (local["errors"], analyzer["errors"])
    assert analyzer["target"]["effective_access"]["backend"] == "policy-analyzer"
    assert local["target"]["effective_access"]["backend"] == "local"
    ours, theirs = _matrix(local), _matrix(analyzer)
    assert set(ours) == set(theirs) and len(ours) == 4  # two repositories and two buckets
    for resource in ours:
        assert ours[resource] == theirs[resource], (resource, ours[resource] ^ theirs[resource])
    # The estate exercises every kind of path: inherited (organization, folders, project; a custom role; under a
    # condition), on the resource itself, changing IAM above, both kinds of hop, and a chain of two accounts.
    everything = "".join(row[2] for rows in ours.values() for row in rows)
    for expected in ('"where": "organization"', '"where": "folder"', "roles/resourcemanager.projectIamAdmin",
                     "organizations/1/roles/pusher", "until 2027", '"service_account": "ci@ml-prod',
                     "roles/iam.serviceAccountKeyAdmin", '"where": "bucket"', '"shape": "bucket-acl"',
                     f'"service_account": "{RELEASE}"', f'"then": [{{"role": "roles/iam.serviceAccountTokenCreator", '
                     f'"service_account": "{DEPLOYER}"'):
        assert expected in everything, expected
    assert local_rc == analyzer_rc == 1
    assert sorted(f["message"] for f in local["findings"]) == sorted(f["message"] for f in analyzer["findings"])
    # The Policy Analyzer run asked Cloud Asset only: no Resource Manager or IAM call for effective access.
    assert list(read_only_violations(org.google.all)) == []


def test_without_policy_analyzer_the_local_backend_is_used_and_said(org: Org, tmp_path: Path) -> None:
    org.google.estate.deny("organizations/1", {"cloudasset.assets.analyzeIamPolicy"})
    rc, report = run_audit(org.args(tmp_path, "policy-analyzer"), tmp_path)
    assert rc == 1 and report["complete"] is True, report["errors"]
    target = report["target"]["effective_access"]
    assert target["backend"] == "local"
    assert target["fallback"].startswith("Policy Analyzer could not be used on the organization (Forbidden (403)")
    assert report["access"]["backend"] == "local"


def test_policy_analyzer_needs_the_organization(org: Org, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [a if a != "--organization" else "--folder" for a in org.args(tmp_path, "policy-analyzer")]
    assert main(args) == 2
    assert "needs --organization" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["local", "policy-analyzer"])
def test_an_account_neither_backend_can_find_is_never_compliant(org: Org, tmp_path: Path, backend: str) -> None:
    ghost = "ghost@ml-prod.iam.gserviceaccount.com"  # deleted, or in a project the audit cannot see
    bindings = [binding("roles/artifactregistry.writer", [f"serviceAccount:{ghost}"])]
    repo = "projects/ml-prod/locations/us-central1/repositories/models"
    org.ar.estate.set_iam_policy(repo, bindings)
    org.google.estate.set_policy(f"//artifactregistry.googleapis.com/{repo}", bindings)
    rc, report = run_audit(org.args(tmp_path, backend), tmp_path)
    assert rc == 3 and report["complete"] is False
    assert any(ghost in u["reason"] for u in report["undetermined"] if u["resource"] == f"repository:{repo}")
