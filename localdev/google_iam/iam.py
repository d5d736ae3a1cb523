"""A local stand-in for the IAM v1 REST API (iam.googleapis.com): roles and service accounts' IAM policies.

The read calls the audit makes (the REST reference's paths; `google-cloud-iam`'s IAM admin client speaks
only gRPC, so the audit reads this API over REST with google-auth's session and parses the answers with that
client's own message types):

* ``GET  /v1/roles/R``, ``/v1/projects/P/roles/R``, ``/v1/organizations/O/roles/R``   roles.get
* ``GET  /v1/roles``, ``/v1/projects/P/roles``, ``/v1/organizations/O/roles``          roles.list (view, showDeleted)
* ``POST /v1/projects/P/serviceAccounts/EMAIL:getIamPolicy``                          serviceAccounts.getIamPolicy
* ``GET  /v1/projects/P/serviceAccounts``                                             serviceAccounts.list

roles.list pages 300 roles by default, at most 1000; serviceAccounts.list 20, at most 100. `view=FULL` adds
`includedPermissions`; a deleted custom role is listed only with `showDeleted` and carries `deleted: true`.
"""

from __future__ import annotations

import re

from localdev.artifact_registry.wire import JSON, ApiError, policy_for_version

from .server import GoogleApiFake, Request, Route

_ROLE_PAGE, _ROLE_MAX = 300, 1000
_SA_PAGE, _SA_MAX = 20, 100


class IamFake(GoogleApiFake):
    name = "iam-fake"

    def routes(self) -> list[Route]:
        return [
            Route("GET", re.compile(r"/v1/(roles/[^/:]+)"), self._get_role),
            Route("GET", re.compile(r"/v1/((?:projects|organizations)/[^/:]+/roles/[^/:]+)"), self._get_role),
            Route("GET", re.compile(r"/v1/roles"), self._list_roles),
            Route("GET", re.compile(r"/v1/((?:projects|organizations)/[^/:]+)/roles"), self._list_roles),
            Route("POST", re.compile(r"/v1/(projects/[^/:]+/serviceAccounts/[^/:]+):getIamPolicy"), self._sa_policy),
            Route("GET", re.compile(r"/v1/(projects/[^/:]+)/serviceAccounts"), self._list_accounts),
        ]

    def _get_role(self, match: re.Match[str], request: Request) -> JSON:
        name = match[1]
        if name.startswith("roles/"):
            role = self.estate.predefined_role(name)
        else:
            self.check(name.rsplit("/roles/", 1)[0], "iam.roles.get")
            role = self.estate.custom_role(name)
        if role is None:
            raise ApiError(404, f"The role named {name} was not found.")
        return role

    def _list_roles(self, match: re.Match[str], request: Request) -> JSON:
        parent = match.group(1) if match.groups() and match.lastindex else ""
        view = request.param("view") or "BASIC"
        if view not in ("BASIC", "FULL", "0", "1"):
            raise ApiError(400, f"Invalid value at 'view' ({view}).")
        if parent:
            self.check(parent, "iam.roles.list")
            roles = [r for r in self.estate.custom_roles(parent)
                     if not r.get("deleted") or request.param("showDeleted") == "true"]
        else:
            roles = [r for n in self.estate.predefined_role_names() if (r := self.estate.predefined_role(n))]
        if view not in ("FULL", "1"):
            roles = [{k: v for k, v in r.items() if k != "includedPermissions"} for r in roles]
        return self.page(f"{parent}/roles#{view}", roles, request, "roles", _ROLE_PAGE, _ROLE_MAX)

    def _sa_policy(self, match: re.Match[str], request: Request) -> JSON:
        name = match[1]
        _, project, _, key = name.split("/")
        account = self.estate.service_account(key)
        # The project may be given as `-` (any project); a named project must be the account's own. With `-`,
        # an account that does not exist is 403, not 404 ("can cause response messages to contain misleading
        # error codes", the IAM reference says of the wildcard).
        if account is None or project not in ("-", account.project_id):
            self.check(name, "iam.serviceAccounts.getIamPolicy")
            if project == "-":
                raise ApiError(403, f"Permission 'iam.serviceAccounts.getIamPolicy' denied on resource '{name}' "
                                    "(or it may not exist).")
            raise ApiError(404, f"Service account {name} does not exist.")
        self.check(f"projects/{account.project_id}/serviceAccounts/{account.email}", "iam.serviceAccounts.getIamPolicy")
        raw = request.param("options.requestedPolicyVersion")
        options = request.body.get("options") or {}
        requested = int(raw) if raw and raw.isdigit() else (options.get("requestedPolicyVersion", 0)
                                                            if isinstance(options, dict) else 0)
        if requested not in (0, 1, 3):
            raise ApiError(400, f"Invalid requested policy version: {requested}. Valid values are 0, 1 and 3.")
        if account.policy is None:
            return {"etag": "ACAB"}
        return policy_for_version(account.policy, requested)

    def _list_accounts(self, match: re.Match[str], request: Request) -> JSON:
        project = match[1]
        self.check(project, "iam.serviceAccounts.list")
        project_id = project.split("/", 1)[1]
        accounts = [{"name": f"projects/{a.project_id}/serviceAccounts/{a.email}", "projectId": a.project_id,
                     "uniqueId": a.unique_id, "email": a.email, "etag": "MDEwMjE5MjA=", "oauth2ClientId": a.unique_id}
                    for a in self.estate.service_accounts() if a.project_id == project_id]
        return self.page(f"{project}/serviceAccounts", accounts, request, "accounts", _SA_PAGE, _SA_MAX)
