"""scan --effective-access end to end, on the Artifact Registry, Resource Manager and IAM stand-ins: inherited and
impersonation paths are findings naming the path, and whatever could not be read leaves the scan incomplete
(exit 3), never compliant."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scan_support import Estate, run_audit

from localdev import demo_estate
from localdev.artifact_registry import ArtifactRegistryFake, binding
from localdev.fault_proxy import FaultProxy, Rule, google_error
from localdev.google_iam import GoogleIamFakes, IamEstate, read_only_violations

warnings.filterwarnings("ignore", category=FutureWarning)

CI = "ci@ml-prod.iam.gserviceaccount.com"
REPO = "projects/ml-prod/locations/us-central1/repositories/models"


@dataclass
class Org:
    ar: ArtifactRegistryFake
    google: GoogleIamFakes

    def args(self, out: Path, *extra: str, resource_manager: str | None = None) -> list[str]:
        return ["scan", "--project", "ml-prod", "--location", "us-central1",
                "--artifact-registry-endpoint", self.ar.endpoint, "--effective-access",
                "--resource-manager-endpoint", resource_manager or self.google.resource_manager.endpoint,
                "--iam-endpoint", self.google.iam.endpoint, "--output", str(out), "--quiet", "--timeout", "2",
                "--skip-rules", "required-labels,customer-managed-encryption,vulnerability-scanning", *extra]


@pytest.fixture
def org() -> Iterator[Org]:
    estate = IamEstate()
    organization = estate.add_organization("1")
    folder = estate.add_folder("20", organization)
    estate.add_project("ml-prod", estate.add_folder("21", folder), number="1001")
    estate.set_policy(folder, [binding("roles/artifactregistry.admin", ["domain:example.com"])])
    estate.add_custom_role("organizations/1", "pusher", ["artifactregistry.repositories.uploadArtifacts"])
    estate.set_policy("projects/ml-prod", [binding("organizations/1/roles/pusher", ["group:ml@example.com"])])
    estate.add_service_account("ml-prod", "ci")
    estate.set_policy(f"projects/ml-prod/serviceAccounts/{CI}",
                      [binding("roles/iam.serviceAccountTokenCreator", ["user:dave@example.com"])])
    with ArtifactRegistryFake() as ar, GoogleIamFakes(estate) as google:
        repo = ar.estate.add_repository("ml-prod", "us-central1", "models", immutable_tags=True)
        ar.estate.set_iam_policy(repo, [binding("roles/artifactregistry.writer", [f"serviceAccount:{CI}"])])
        yield Org(ar, google)


def _findings(report: dict[str, Any], rule: str) -> list[str]:
    return [f["message"] for f in report["findings"] if f["rule_id"] == rule]


def test_inherited_and_impersonation_paths_are_findings(org: Org, tmp_path: Path) -> None:
    rc, report = run_audit(org.args(tmp_path), tmp_path)
    assert rc == 1 and report["complete"] is True, report["errors"]
    admin = _findings(report, "no-broad-admin")
    assert any(m.startswith("domain:example.com can ") and "(roles/artifactregistry.admin on folder folders/20)" in m
               for m in admin), admin
    personal = _findings(report, "no-personal-writers")
    assert any(m.startswith("user:dave@example.com can push new versions") and f"acting as {CI}" in m
               for m in personal), personal
    assert report["target"]["effective_access"]["backend"] == "local"
    assert list(read_only_violations(org.google.all)) == []


def test_without_effective_access_only_the_repository_iam_is_judged(org: Org, tmp_path: Path) -> None:
    args = [a for a in org.args(tmp_path) if a != "--effective-access"]
    rc, report = run_audit(args, tmp_path)
    assert rc == 0 and report["complete"] is True and "effective_access" not in report["target"]
    assert not any("folders/20" in m for m in _findings(report, "no-broad-admin"))
    assert org.google.resource_manager.requests == ()


@pytest.mark.parametrize(("denied", "permission", "says"), [
    ("folders/20", "resourcemanager.folders.getIamPolicy", "the IAM policy of folder folders/20 could not be read"),
    ("organizations/1", "iam.roles.get", "role organizations/1/roles/pusher could not be read"),
    (f"projects/ml-prod/serviceAccounts/{CI}", "iam.serviceAccounts.getIamPolicy",
     f"the IAM policy of service account {CI} could not be read"),
], ids=["ancestor policy", "custom role", "service account policy"])
def test_what_could_not_be_read_is_never_compliant(org: Org, tmp_path: Path, denied: str, permission: str,
                                                     says: str) -> None:
    org.google.estate.deny(denied, {permission})
    rc, report = run_audit(org.args(tmp_path), tmp_path)
    assert rc == 3 and report["complete"] is False
    assert any(says in e["message"] for e in report["errors"] if e["source"] == "effective-access"), report["errors"]
    assert any(says in u["reason"] for u in report["undetermined"] if u["resource"] == f"repository:{REPO}")


def test_transient_failures_are_retried(org: Org, tmp_path: Path) -> None:
    with FaultProxy(org.google.resource_manager.endpoint) as proxy:
        proxy.plan = [Rule(google_error(503), path=":getIamPolicy", times=2)]
        rc, report = run_audit(org.args(tmp_path, resource_manager=proxy.url), tmp_path)
    assert report["complete"] is True and rc == 1, report["errors"]
    assert sum(1 for r in proxy.requests if r.fault) == 2


def test_the_demo_shows_an_inherited_admin_and_impersonation_paths(estate: Estate, tmp_path: Path) -> None:
    """The demo's estate with its hierarchy (localdev/demo_estate.seed_hierarchy), scanned as scripts/demo.py
    scans it: the inherited admin, the person acting as the CI account and the one acting through a chain of two
    accounts are findings, and the HTML's access matrix shows them."""
    with GoogleIamFakes() as google:
        demo_estate.seed_hierarchy(google.estate)
        args = estate.scan_args(tmp_path, "--effective-access", "--resource-manager-endpoint",
                                google.resource_manager.endpoint, "--iam-endpoint", google.iam.endpoint,
                                "--format", "json", "--format", "html")
        rc, report = run_audit(args, tmp_path)
    assert rc == 1 and report["complete"] is True, report["errors"]
    inherited = "roles/artifactregistry.admin on folder folders/456"
    acting = f"acting as {demo_estate.CI_ACCOUNT} (roles/iam.serviceAccountTokenCreator"
    assert any(inherited in m and m.startswith("group:ml-leads@example.com")
               for m in _findings(report, "no-broad-admin"))
    assert any(acting in m and m.startswith("user:carol@example.com")
               for m in _findings(report, "no-personal-writers"))
    trainer = f"nightly-train@{demo_estate.PROJECT}.iam.gserviceaccount.com"
    chained = f"acting as {trainer} (roles/iam.serviceAccountUser on service account {trainer}), which may act as " \
              f"{demo_estate.CI_ACCOUNT} (roles/iam.serviceAccountTokenCreator"
    assert any(chained in m and m.startswith("user:dan@example.com") for m in _findings(report, "no-personal-writers"))
    page = (tmp_path / "registry-guard-scan.html").read_text()
    assert 'id="access"' in page and inherited in page and acting in page and chained in page


def test_declared_project_iam_is_not_compared_and_says_why() -> None:
    """Drift compares whole policies only for repositories and buckets: declared project IAM stays could not
    judge, and says that the policy was read for effective access rather than that it was not read."""
    from registry_guard.catalogue.access_model import AccessContext
    from registry_guard.catalogue.model import Grant, RegistryState, ResourceRef

    from audit.scan import _unmatched

    project = ResourceRef("project", "ml-prod")
    declared = RegistryState(grants=(Grant(project, "roles/viewer", "group:ml@example.com", "iam-member"),))
    read = _unmatched(declared, RegistryState(access=AccessContext(parents={project: None})), None)
    assert read.undetermined and all("read the policy for effective access" in u.reason for u in read.undetermined)
    unread = _unmatched(declared, RegistryState(), None)
    assert unread.undetermined and all("did not read it" in u.reason for u in unread.undetermined)
