"""The effective access source reads, with the real clients over REST, the ancestry and IAM above the registry,
the roles its policies name and the IAM of the service accounts that hold access; whatever it cannot read is a
read error and leaves what depends on it unjudged. Only reads go over the wire."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from registry_guard.catalogue.effective_access import compute
from registry_guard.catalogue.model import RegistryState, ResourceRef

from audit.sources.artifact_registry import scan_artifact_registry
from audit.sources.google_access import read_effective_access
from localdev.artifact_registry import ArtifactRegistryFake, binding, iter_read_only_violations
from localdev.google_iam import GoogleIamFakes, IamEstate, read_only_violations

warnings.filterwarnings("ignore", category=FutureWarning)

CI = "ci@ml-prod.iam.gserviceaccount.com"
REPO = "projects/ml-prod/locations/us-central1/repositories/models"


@dataclass
class Setup:
    ar: ArtifactRegistryFake
    google: GoogleIamFakes

    def state(self) -> RegistryState:
        return scan_artifact_registry("ml-prod", "us-central1", endpoint=self.ar.endpoint).state

    def read(self, state: RegistryState | None = None, iam: str | None = None) -> tuple[RegistryState, object]:
        scanned = state or self.state()
        read = read_effective_access(scanned, resource_manager_endpoint=self.google.resource_manager.endpoint,
                                     iam_endpoint=iam or self.google.iam.endpoint, retry_deadline=0.5)
        merged = scanned.merged(read.state)
        return merged, read


@pytest.fixture
def setup() -> Iterator[Setup]:
    estate = IamEstate()
    org = estate.add_organization("1")
    folder = estate.add_folder("20", org)
    estate.add_project("ml-prod", estate.add_folder("21", folder), number="1001")
    estate.add_project("tools", org, number="1002")
    estate.set_policy(org, [binding("roles/artifactregistry.repoAdmin", ["group:release@example.com"])])
    estate.set_policy(folder, [binding("roles/editor", ["domain:example.com"])])
    estate.add_custom_role("organizations/1", "pusher", ["artifactregistry.repositories.uploadArtifacts"])
    estate.set_policy("projects/ml-prod", [binding("organizations/1/roles/pusher", ["group:ml@example.com"])])
    estate.add_service_account("ml-prod", "ci")
    estate.set_policy(f"projects/ml-prod/serviceAccounts/{CI}",
                      [binding("roles/iam.serviceAccountTokenCreator", ["user:dave@example.com"])])
    estate.set_policy("projects/tools", [binding("roles/iam.serviceAccountUser", ["group:ops@example.com"])])
    with ArtifactRegistryFake() as ar, GoogleIamFakes(estate) as google:
        repo = ar.estate.add_repository("ml-prod", "us-central1", "models", immutable_tags=True)
        ar.estate.set_iam_policy(repo, [binding("roles/artifactregistry.writer", [f"serviceAccount:{CI}"])])
        yield Setup(ar, google)


def test_reads_ancestry_roles_and_service_accounts(setup: Setup) -> None:
    state, read = setup.read()
    assert read.errors == ()  # type: ignore[attr-defined]
    context = state.access
    assert context is not None
    assert context.parents[ResourceRef("project", "ml-prod")] == ResourceRef("folder", "folders/21")
    assert context.parents[ResourceRef("folder", "folders/20")] == ResourceRef("organization", "organizations/1")
    pusher = context.roles["organizations/1/roles/pusher"]
    assert pusher.permissions == {"artifactregistry.repositories.uploadArtifacts"}
    assert context.roles["roles/editor"].source == "IAM roles.get"
    assert context.accounts_read == {CI}
    targets = {g.target for g in state.grants}
    assert {ResourceRef("organization", "organizations/1"), ResourceRef("folder", "folders/20"),
            ResourceRef("project", "ml-prod"), ResourceRef("service-account", CI)} <= targets

    result = compute(state, context)
    push = {a.member for a in result.accesses if a.capability == "push"}
    assert push == {f"serviceAccount:{CI}", "group:release@example.com", "domain:example.com",
                    "group:ml@example.com", "user:dave@example.com"}
    assert result.not_judged == ()
    # The audit stayed read-only on every API it called.
    assert list(read_only_violations(setup.google.all)) == []
    assert list(iter_read_only_violations(setup.ar.requests)) == []
    # Each role was asked for once, however many grants name it.
    role_calls = [r.path for r in setup.google.iam.requests if "/roles/" in r.path]
    assert len(role_calls) == len(set(role_calls))


def test_what_could_not_be_read_is_unjudged_and_a_read_error(setup: Setup) -> None:
    setup.google.estate.deny("folders/20", {"resourcemanager.folders.getIamPolicy"})
    setup.google.estate.deny("organizations/1", {"iam.roles.get"})
    setup.google.estate.deny(f"projects/ml-prod/serviceAccounts/{CI}", {"iam.serviceAccounts.getIamPolicy"})
    state, read = setup.read()
    errors = {e.target for e in read.errors}  # type: ignore[attr-defined]
    assert errors == {"folders/20 IAM policy", "organizations/1/roles/pusher", f"service account {CI} IAM policy"}
    assert state.access is not None
    result = compute(state, state.access)
    reasons = {n.reason for n in result.not_judged}
    assert any(r.startswith("the IAM policy of folder folders/20 could not be read (Forbidden (403)") for r in reasons)
    assert any(r.startswith("role organizations/1/roles/pusher could not be read") for r in reasons)
    assert any(r.startswith(f"the IAM policy of service account {CI} could not be read") for r in reasons)


def test_predefined_roles_fall_back_to_the_bundled_snapshot(setup: Setup) -> None:
    scanned = setup.state()
    iam = setup.google.iam.endpoint
    setup.google.iam.stop()  # the roles API cannot be reached
    state, read = setup.read(scanned, iam)
    assert state.access is not None
    editor = state.access.roles["roles/editor"]
    assert editor.source.startswith("bundled snapshot of predefined roles (")
    assert "artifactregistry.repositories.uploadArtifacts" in editor.permissions  # type: ignore[operator]
    # A custom role has no snapshot: it stays unknown, and so does what it grants.
    assert state.access.roles["organizations/1/roles/pusher"].problem
    assert any("predefined roles" in note for note in read.target.value["notes"])  # type: ignore[attr-defined]
    assert read.errors  # type: ignore[attr-defined]  # the scan still says the roles API was not read


def test_reads_in_parallel_give_what_reads_one_at_a_time_give(setup: Setup) -> None:
    scanned = setup.state()
    one = read_effective_access(scanned, resource_manager_endpoint=setup.google.resource_manager.endpoint,
                                iam_endpoint=setup.google.iam.endpoint, workers=1)
    asked = len(setup.google.resource_manager.requests) + len(setup.google.iam.requests)
    many = read_effective_access(scanned, resource_manager_endpoint=setup.google.resource_manager.endpoint,
                                 iam_endpoint=setup.google.iam.endpoint, workers=8)
    assert many.state.grants == one.state.grants  # the same grants, in the same order
    assert many.state.access == one.state.access
    # ... and no call twice: a folder above several projects is read once
    assert len(setup.google.resource_manager.requests) + len(setup.google.iam.requests) == 2 * asked
