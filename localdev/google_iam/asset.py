"""A local stand-in for the Cloud Asset Inventory v1 REST API, driven by the real `google-cloud-asset` client
(`transport="rest"`).

The read calls the audit makes (paths as in the client's `transports/rest_base.py`; SCOPE is
`projects/P`, `folders/F` or `organizations/O`):

* ``GET /v1/SCOPE:searchAllResources``    assetTypes (repositories, buckets, service accounts), query (`location:L`,
  or a quoted free text matched against what the result shows), pageSize (capped at 500), pageToken
* ``GET /v1/SCOPE:searchAllIamPolicies``  assetTypes, query (empty), pageSize (capped at 500), pageToken
* ``GET /v1/SCOPE:analyzeIamPolicy``      Policy Analyzer: who has which of `accessSelector.permissions` on
  `resourceSelector.fullResourceName`, one result per IAM binding that grants any of them, on the resource
  or above it, and with `analyzeServiceAccountImpersonation` who may act as a service account with such
  access (the six permissions the API documents for that analysis)

Full resource names are Cloud Asset's: `//cloudresourcemanager.googleapis.com/projects/NUMBER`,
`//artifactregistry.googleapis.com/projects/ID/locations/L/repositories/R`, `//storage.googleapis.com/BUCKET`,
`//iam.googleapis.com/projects/ID/serviceAccounts/UNIQUE_ID`. A caller without `cloudasset.assets.*` on the
scope gets 403, as from the real API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from localdev.artifact_registry.wire import JSON, ApiError

from .estate import CRM, Asset, IamEstate, ServiceAccount
from .server import GoogleApiFake, Request, Route

_PAGE, _MAX = 100, 500
ACCOUNT_TYPE = "iam.googleapis.com/ServiceAccount"
_SCOPE = r"((?:projects|folders|organizations)/[^/:]+)"
# "Only the following permissions are considered in this analysis" (AnalyzeIamPolicy,
# options.analyzeServiceAccountImpersonation).
IMPERSONATION_PERMISSIONS = ("iam.serviceAccounts.actAs", "iam.serviceAccounts.signBlob",
                             "iam.serviceAccounts.signJwt", "iam.serviceAccounts.getAccessToken",
                             "iam.serviceAccounts.getOpenIdToken", "iam.serviceAccounts.implicitDelegation")
_SA_EMAIL = re.compile(r"serviceAccount:(.+)", re.IGNORECASE)


class AssetFake(GoogleApiFake):
    name = "asset-fake"

    def routes(self) -> list[Route]:
        return [
            Route("GET", re.compile(rf"/v1/{_SCOPE}:searchAllResources"), self._search_resources),
            Route("GET", re.compile(rf"/v1/{_SCOPE}:searchAllIamPolicies"), self._search_policies),
            Route("GET", re.compile(rf"/v1/{_SCOPE}:analyzeIamPolicy"), self._analyze),
        ]

    def _scope(self, scope: str, permission: str) -> set[str]:
        """The hierarchy nodes under `scope`; 403 without `permission` there, 400 for a scope that is not one."""
        if self.estate.node(scope) is None:
            raise ApiError(403, f"Permission '{permission}' denied on resource '{scope}' (or it may not exist).")
        self.check(self.estate.resolve(scope), permission)
        return self.estate.descendants(scope)

    def _search_resources(self, match: re.Match[str], request: Request) -> JSON:
        nodes = self._scope(match[1], "cloudasset.assets.searchAllResources")
        types = set(request.params("assetTypes"))
        location, text = _query(request.param("query") or "")
        results = [self._resource_json(a) for a in self.estate.assets()
                   if a.project in nodes and (not types or a.asset_type in types)
                   and (location is None or a.location == location)]
        if not types or ACCOUNT_TYPE in types:
            results += [body for account in self.estate.service_accounts()
                        if self.estate.resolve(f"projects/{account.project_id}") in nodes and location is None
                        for body in [self._account_json(account)]]
        if text is not None:
            results = [r for r in results if text in json.dumps(r).lower()]
        return self.page(f"{match[1]}:resources:{sorted(types)}:{location}:{text}", results, request, "results",
                         _PAGE, _MAX)

    def _account_json(self, account: ServiceAccount) -> JSON:
        """A service account as searchAllResources lists it: named by its unique ID, its email among the
        additional attributes (which a free-text query matches)."""
        project = self.estate.resolve(f"projects/{account.project_id}")
        body: JSON = {"name": f"//iam.googleapis.com/projects/{account.project_id}/serviceAccounts/"
                              f"{account.unique_id}",
                      "assetType": ACCOUNT_TYPE, "project": project, "displayName": account.email.split("@")[0],
                      "additionalAttributes": {"email": account.email, "oauth2ClientId": account.unique_id},
                      "parentFullResourceName": CRM + project,
                      "parentAssetType": "cloudresourcemanager.googleapis.com/Project"}
        return self._with_ancestry(body, project)

    def _resource_json(self, asset: Asset) -> JSON:
        body: JSON = {"name": asset.full_name, "assetType": asset.asset_type, "project": asset.project,
                      "displayName": asset.display_name, "location": asset.location,
                      "parentFullResourceName": CRM + asset.project,
                      "parentAssetType": "cloudresourcemanager.googleapis.com/Project",
                      "createTime": "2024-01-01T00:00:00Z", "updateTime": "2024-06-01T00:00:00Z"}
        return self._with_ancestry(body, asset.project)

    def _with_ancestry(self, body: JSON, project: str) -> JSON:
        """The search result's `folders` and `organization`: the project's ancestry, as the API gives them."""
        ancestry = self.estate.ancestry(project)
        folders = [n for n in ancestry if n.startswith("folders/")]
        if folders:
            body["folders"] = folders
        organization = next((n for n in ancestry if n.startswith("organizations/")), None)
        if organization:
            body["organization"] = organization
        return body

    def _search_policies(self, match: re.Match[str], request: Request) -> JSON:
        nodes = self._scope(match[1], "cloudasset.assets.searchAllIamPolicies")
        if request.param("query"):
            raise ApiError(400, "Invalid query: this stand-in answers only an empty query.")
        types = set(request.params("assetTypes"))
        results = []
        for resource, asset_type, policy in self.estate.policies():
            project = self._project_of(resource)
            if project is None or project not in nodes or (types and asset_type not in types):
                continue
            if not policy.get("bindings"):
                continue  # resources without bindings are not returned
            ancestry = self.estate.ancestry(project)
            result: JSON = {"resource": resource, "assetType": asset_type, "policy": {"bindings": policy["bindings"]}}
            if project.startswith("projects/"):
                result["project"] = project
            folders = [n for n in ancestry if n.startswith("folders/")]
            if folders:
                result["folders"] = folders
            organization = next((n for n in ancestry if n.startswith("organizations/")), None)
            if organization:
                result["organization"] = organization
            results.append(result)
        return self.page(f"{match[1]}:policies:{sorted(types)}", results, request, "results", _PAGE, _MAX)

    def _project_of(self, resource: str) -> str | None:
        """The hierarchy node a resource with a policy belongs to (itself for a node)."""
        if resource.startswith(CRM):
            return resource[len(CRM):]
        for asset in self.estate.assets():
            if asset.full_name == resource:
                return asset.project
        if resource.startswith("//iam.googleapis.com/projects/"):
            return self.estate.resolve("projects/" + resource.split("/")[4])
        return None

    # -- Policy Analyzer ---------------------------------------------------------------------

    def _analyze(self, match: re.Match[str], request: Request) -> JSON:
        scope = match[1]
        nodes = self._scope(scope, "cloudasset.assets.analyzeIamPolicy")
        resource = request.param("analysisQuery.resourceSelector.fullResourceName")
        permissions = request.params("analysisQuery.accessSelector.permissions")
        if not resource or not permissions:
            raise ApiError(400, "This stand-in analyzes a resource selector with an access selector of permissions.")
        impersonation = request.param("analysisQuery.options.analyzeServiceAccountImpersonation") == "true"
        query: JSON = {"scope": scope, "resourceSelector": {"fullResourceName": resource},
                       "accessSelector": {"permissions": list(permissions)}}
        results = list(_analysis(self.estate, resource, set(permissions), nodes))
        response: JSON = {"mainAnalysis": {"analysisQuery": query, "analysisResults": results, "fullyExplored": True},
                          "fullyExplored": True}
        if impersonation:
            accounts = sorted({m.group(1).lower() for r in results for i in r["identityList"]["identities"]
                               if (m := _SA_EMAIL.fullmatch(i["name"]))})
            analyses = []
            for email in accounts:
                account = self.estate.service_account(email)
                if account is None:
                    continue
                full = f"//iam.googleapis.com/projects/{account.project_id}/serviceAccounts/{account.unique_id}"
                found = list(_analysis(self.estate, full, set(IMPERSONATION_PERMISSIONS), nodes))
                analyses.append({"analysisQuery": {"scope": scope, "resourceSelector": {"fullResourceName": full},
                                                   "accessSelector": {"permissions": list(IMPERSONATION_PERMISSIONS)}},
                                 "analysisResults": found, "fullyExplored": True})
            if analyses:
                response["serviceAccountImpersonationAnalysis"] = analyses
        return response


def _query(query: str) -> tuple[str | None, str | None]:
    """(location, free text) of the queries this stand-in answers: `location:LOCATION` or a quoted `"text"`."""
    if not query:
        return None, None
    if found := re.fullmatch(r"location:([a-z0-9-]+)", query.strip()):
        return found[1], None
    if found := re.fullmatch(r'"([^"]+)"', query.strip()):
        return None, found[1].lower()
    raise ApiError(400, "Invalid query: this stand-in answers `location:LOCATION` or a quoted free text only.")


def _attached(estate: IamEstate, resource: str) -> list[str]:
    """`resource` and the hierarchy above it, as full resource names, nearest first."""
    project: str | None = None
    if resource.startswith("//artifactregistry.googleapis.com/projects/"):
        project = estate.resolve("projects/" + resource.split("/")[4])
    elif resource.startswith("//storage.googleapis.com/"):
        project = next((a.project for a in estate.assets() if a.full_name == resource), None)
    elif resource.startswith("//iam.googleapis.com/projects/"):
        project = estate.resolve("projects/" + resource.split("/")[4])
    elif resource.startswith(CRM):
        return [CRM + n for n in estate.ancestry(resource[len(CRM):])]
    return [resource] + ([CRM + n for n in estate.ancestry(project)] if project else [])


def _policy_of(estate: IamEstate, full: str) -> JSON | None:
    if full.startswith(CRM):
        node = estate.node(full[len(CRM):])
        return node.policy if node else None
    if full.startswith("//iam.googleapis.com/"):
        account = estate.service_account(full.rsplit("/", 1)[1])
        return account.policy if account else None
    return next((a.policy for a in estate.assets() if a.full_name == full), None)


def _analysis(estate: IamEstate, resource: str, permissions: set[str], scope_nodes: set[str]) -> Iterator[JSON]:
    """One IamPolicyAnalysisResult per binding, on `resource` or above it, that grants any of `permissions`."""
    for attached in _attached(estate, resource):
        if attached.startswith(CRM) and attached[len(CRM):] not in scope_nodes:
            continue  # above the scope: Policy Analyzer sees only the policies inside it
        policy = _policy_of(estate, attached) or {}
        for binding in policy.get("bindings", []):
            granted = sorted(estate.role_permissions(binding["role"]) & permissions)
            if not granted:
                continue
            acl: JSON = {"resources": [{"fullResourceName": resource}],
                         "accesses": [{"permission": p} for p in granted]}
            iam_binding: JSON = {"role": binding["role"], "members": list(binding["members"])}
            if "condition" in binding:
                iam_binding["condition"] = binding["condition"]
                acl["conditionEvaluation"] = {"evaluationValue": "CONDITIONAL"}
            yield {"attachedResourceFullName": attached, "iamBinding": iam_binding, "accessControlLists": [acl],
                   "identityList": {"identities": [{"name": m} for m in binding["members"]]},
                   "fullyExplored": True}
