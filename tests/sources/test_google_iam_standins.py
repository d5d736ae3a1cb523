"""The Resource Manager, IAM and Cloud Asset stand-ins answer the real clients as the APIs do: field shapes,
paging, 403 vs 404, policy versions, and nothing but reads."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
import requests
from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import asset_v1, resourcemanager_v3
from google.iam.v1 import iam_policy_pb2, policy_pb2

from localdev.artifact_registry import binding
from localdev.google_iam import GoogleIamFakes, IamEstate, read_only_violations

warnings.filterwarnings("ignore", category=FutureWarning)

COND = "request.time < timestamp('2027-01-01T00:00:00Z')"


@pytest.fixture
def fakes() -> Iterator[GoogleIamFakes]:
    estate = IamEstate()
    org = estate.add_organization("1")
    folder = estate.add_folder("20", org, "ml")
    inner = estate.add_folder("21", folder, "models")
    estate.add_project("ml-prod", inner, number="1001")
    estate.add_project("ml-dev", inner, number="1002")
    estate.add_project("other", org, number="1003")
    estate.set_policy(org, [binding("roles/artifactregistry.admin", ["group:admins@example.com"])])
    estate.set_policy(folder, [binding("roles/editor", ["domain:example.com"], condition_expression=COND,
                                       condition_title="until 2027")])
    estate.set_policy("projects/ml-prod", [binding("roles/viewer", ["user:alice@example.com"])])
    estate.add_custom_role("projects/ml-prod", "pusher", ["artifactregistry.repositories.uploadArtifacts",
                                                          "artifactregistry.repositories.get"])
    ci = estate.add_service_account("ml-prod", "ci")
    estate.set_policy(f"projects/ml-prod/serviceAccounts/{ci}",
                      [binding("roles/iam.serviceAccountTokenCreator", ["group:devs@example.com"])])
    estate.add_repository("ml-prod", "us-central1", "models",
                          [binding("roles/artifactregistry.writer", [f"serviceAccount:{ci}"])])
    estate.add_repository("ml-dev", "europe-west1", "scratch")
    estate.add_bucket("ml-prod", "artifacts.ml-prod.appspot.com")
    with GoogleIamFakes(estate) as started:
        yield started


def _rm(fakes: GoogleIamFakes) -> tuple[resourcemanager_v3.ProjectsClient, resourcemanager_v3.FoldersClient,
                                        resourcemanager_v3.OrganizationsClient]:
    options = ClientOptions(api_endpoint=fakes.resource_manager.endpoint)
    creds = AnonymousCredentials()  # type: ignore[no-untyped-call]
    return (resourcemanager_v3.ProjectsClient(transport="rest", credentials=creds, client_options=options),
            resourcemanager_v3.FoldersClient(transport="rest", credentials=creds, client_options=options),
            resourcemanager_v3.OrganizationsClient(transport="rest", credentials=creds, client_options=options))


def _policy(client: object, resource: str, version: int = 3) -> policy_pb2.Policy:
    request = iam_policy_pb2.GetIamPolicyRequest(resource=resource)
    request.options.requested_policy_version = version
    return client.get_iam_policy(request=request)  # type: ignore[attr-defined,no-any-return]


def test_resource_manager_ancestry_and_policies(fakes: GoogleIamFakes) -> None:
    projects, folders, organizations = _rm(fakes)
    by_id = projects.get_project(name="projects/ml-prod")
    assert (by_id.name, by_id.project_id, by_id.parent) == ("projects/1001", "ml-prod", "folders/21")
    assert projects.get_project(name="projects/1001").project_id == "ml-prod"  # by number too
    assert folders.get_folder(name="folders/21").parent == "folders/20"
    assert folders.get_folder(name="folders/20").parent == "organizations/1"
    assert organizations.get_organization(name="organizations/1").display_name == "example.com"

    conditional = _policy(folders, "folders/20")
    assert conditional.version == 3 and conditional.etag
    assert conditional.bindings[0].condition.title == "until 2027"
    # An old caller gets the role marked as conditional, never an unconditional grant.
    legacy = _policy(folders, "folders/20", version=1)
    assert legacy.bindings[0].role.startswith("roles/editor_withcond_") and not legacy.bindings[0].HasField("condition")
    assert [b.role for b in _policy(organizations, "organizations/1").bindings] == ["roles/artifactregistry.admin"]
    assert _policy(projects, "projects/other").etag  # an empty policy still has an etag


def test_resource_manager_denies_what_it_does_not_show(fakes: GoogleIamFakes) -> None:
    projects, folders, _ = _rm(fakes)
    # Resource Manager answers 403 for a project that does not exist, as for one the caller may not see.
    with pytest.raises(gexc.Forbidden):
        projects.get_project(name="projects/no-such-project")
    fakes.estate.deny("folders/20", {"resourcemanager.folders.getIamPolicy"})
    with pytest.raises(gexc.Forbidden):
        _policy(folders, "folders/20")
    assert folders.get_folder(name="folders/20").name == "folders/20"  # only the policy is denied


def test_resource_manager_lists_children_page_by_page(fakes: GoogleIamFakes) -> None:
    projects, _, _ = _rm(fakes)
    pager = projects.list_projects(request={"parent": "folders/21", "page_size": 1})
    pages = list(pager.pages)
    assert len(pages) == 2 and [p.project_id for page in pages for p in page.projects] == ["ml-prod", "ml-dev"]
    assert fakes.resource_manager.requests[-1].param("pageToken")


def test_iam_roles_and_service_account_policy(fakes: GoogleIamFakes) -> None:
    base = fakes.iam.endpoint + "/v1/"
    writer = requests.get(base + "roles/artifactregistry.writer", timeout=5).json()
    assert writer["name"] == "roles/artifactregistry.writer" and writer["title"] == "Artifact Registry Writer"
    assert "artifactregistry.repositories.uploadArtifacts" in writer["includedPermissions"]
    custom = requests.get(base + "projects/ml-prod/roles/pusher", timeout=5).json()
    assert custom["includedPermissions"] == ["artifactregistry.repositories.get",
                                             "artifactregistry.repositories.uploadArtifacts"]
    missing = requests.get(base + "projects/ml-prod/roles/nope", timeout=5)
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    fakes.estate.deny("projects/ml-prod", {"iam.roles.get"})
    assert requests.get(base + "projects/ml-prod/roles/pusher", timeout=5).status_code == 403

    policy = requests.post(base + "projects/-/serviceAccounts/ci@ml-prod.iam.gserviceaccount.com:getIamPolicy",
                           params={"options.requestedPolicyVersion": "3"}, timeout=5).json()
    assert policy["bindings"] == [{"role": "roles/iam.serviceAccountTokenCreator",
                                   "members": ["group:devs@example.com"]}]
    gone = base + "projects/{}/serviceAccounts/gone@ml-prod.iam.gserviceaccount.com:getIamPolicy"
    assert requests.post(gone.format("ml-prod"), timeout=5).status_code == 404
    assert requests.post(gone.format("-"), timeout=5).status_code == 403  # the wildcard hides which


def test_iam_lists_roles_basic_or_full_in_pages(fakes: GoogleIamFakes) -> None:
    base = fakes.iam.endpoint + "/v1/roles"
    first = requests.get(base, params={"pageSize": "2"}, timeout=5).json()
    assert len(first["roles"]) == 2 and "includedPermissions" not in first["roles"][0] and first["nextPageToken"]
    second = requests.get(base, params={"pageSize": "2", "pageToken": first["nextPageToken"], "view": "FULL"},
                          timeout=5)
    assert second.status_code == 400  # a token belongs to the listing it came from
    default = requests.get(base, timeout=5).json()
    assert len(default["roles"]) == 300  # roles.list's default page


def test_asset_search_and_policy_analyzer(fakes: GoogleIamFakes) -> None:
    client = asset_v1.AssetServiceClient(transport="rest", credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                                         client_options=ClientOptions(api_endpoint=fakes.asset.endpoint))
    pager = client.search_all_resources(request={
        "scope": "organizations/1", "asset_types": ["artifactregistry.googleapis.com/Repository"], "page_size": 1})
    pages = list(pager.pages)
    found = [r for page in pages for r in page.results]
    assert len(pages) == 2 and {r.display_name for r in found} == {"models", "scratch"}
    models = next(r for r in found if r.display_name == "models")
    assert (models.project, list(models.folders), models.organization, models.location) == (
        "projects/1001", ["folders/21", "folders/20"], "organizations/1", "us-central1")
    scoped = list(client.search_all_resources(request={"scope": "projects/ml-dev"}))
    assert [r.display_name for r in scoped] == ["scratch"]

    policies = list(client.search_all_iam_policies(request={"scope": "organizations/1"}))
    assert {p.resource for p in policies} >= {"//cloudresourcemanager.googleapis.com/organizations/1",
                                              "//cloudresourcemanager.googleapis.com/folders/20"}

    analysis = client.analyze_iam_policy(request={"analysis_query": {
        "scope": "organizations/1",
        "resource_selector": {"full_resource_name":
                              "//artifactregistry.googleapis.com/projects/ml-prod/locations/us-central1/repositories/models"},
        "access_selector": {"permissions": ["artifactregistry.repositories.uploadArtifacts"]},
        "options": {"analyze_service_account_impersonation": True}}})
    attached = {r.attached_resource_full_name: [i.name for i in r.identity_list.identities]
                for r in analysis.main_analysis.analysis_results}
    assert attached == {
        "//artifactregistry.googleapis.com/projects/ml-prod/locations/us-central1/repositories/models":
            ["serviceAccount:ci@ml-prod.iam.gserviceaccount.com"],
        "//cloudresourcemanager.googleapis.com/folders/20": ["domain:example.com"],
        "//cloudresourcemanager.googleapis.com/organizations/1": ["group:admins@example.com"],
    }
    conditional = next(r for r in analysis.main_analysis.analysis_results if r.iam_binding.role == "roles/editor")
    assert conditional.access_control_lists[0].condition_evaluation.evaluation_value.name == "CONDITIONAL"
    # Who may act as the account: the token creators on it, and the folder's editors (roles/editor holds
    # iam.serviceAccounts.actAs).
    impersonation = analysis.service_account_impersonation_analysis
    assert sorted(i.name for r in impersonation[0].analysis_results for i in r.identity_list.identities) == [
        "domain:example.com", "group:devs@example.com"]

    fakes.estate.deny("organizations/1", {"cloudasset.assets.searchAllResources"})
    with pytest.raises(gexc.Forbidden):
        list(client.search_all_resources(request={"scope": "organizations/1"}))


def test_only_reads_pass(fakes: GoogleIamFakes) -> None:
    projects, _, _ = _rm(fakes)
    request = iam_policy_pb2.SetIamPolicyRequest(resource="projects/ml-prod")
    with pytest.raises(gexc.MethodNotAllowed):
        projects.set_iam_policy(request=request)
    _policy(projects, "projects/ml-prod")
    assert [(r.method, r.path) for r in read_only_violations(fakes.all)] == [
        ("POST", "/v3/projects/ml-prod:setIamPolicy")]
