"""A local stand-in for the Cloud Resource Manager v3 REST API, driven by the real
`google-cloud-resource-manager` client (`transport="rest"`).

The read calls the audit makes (paths and methods as in the client's `transports/rest_base.py`):

* ``GET  /v3/projects/P``                   projects.get (P is the project ID or number)
* ``POST /v3/projects/P:getIamPolicy``      projects.getIamPolicy (options in the body)
* ``GET  /v3/projects?parent=…``            projects.list (direct children of a folder or organization)
* ``GET  /v3/folders/F``, ``POST /v3/folders/F:getIamPolicy``, ``GET /v3/folders?parent=…``
* ``GET  /v3/organizations/O``, ``POST /v3/organizations/O:getIamPolicy``

As the real API does, a project or folder the caller may not see, or that does not exist, is 403
PERMISSION_DENIED ("The caller does not have permission"): Resource Manager does not say which.
"""

from __future__ import annotations

import re

from localdev.artifact_registry.wire import JSON, ApiError, policy_for_version

from .estate import Node
from .server import GoogleApiFake, Handler, Request, Route

_NO_PERMISSION = "The caller does not have permission"
_TIMES = {"createTime": "2024-01-01T00:00:00.000Z", "updateTime": "2024-06-01T00:00:00.000Z"}
# projects.list / folders.list: "The maximum number of projects to return in the response" (no documented
# default or maximum); 50 and 1000 are this stand-in's choice.
_DEFAULT_PAGE, _MAX_PAGE = 50, 1000


class ResourceManagerFake(GoogleApiFake):
    name = "resource-manager-fake"

    def routes(self) -> list[Route]:
        return [
            Route("GET", re.compile(r"/v3/(projects/[^/:]+)"), self._get_project),
            Route("POST", re.compile(r"/v3/(projects/[^/:]+):getIamPolicy"), self._get_policy),
            Route("GET", re.compile(r"/v3/projects"), self._list("project")),
            Route("GET", re.compile(r"/v3/(folders/[^/:]+)"), self._get_folder),
            Route("POST", re.compile(r"/v3/(folders/[^/:]+):getIamPolicy"), self._get_policy),
            Route("GET", re.compile(r"/v3/folders"), self._list("folder")),
            Route("GET", re.compile(r"/v3/(organizations/[^/:]+)"), self._get_organization),
            Route("POST", re.compile(r"/v3/(organizations/[^/:]+):getIamPolicy"), self._get_policy),
        ]

    def _node(self, name: str, permission: str) -> Node:
        node = self.estate.node(name)
        if node is None:
            raise ApiError(403, _NO_PERMISSION)
        self.check(node.name, permission, _NO_PERMISSION)
        return node

    def _get_project(self, match: re.Match[str], request: Request) -> JSON:
        return project_json(self._node(match[1], "resourcemanager.projects.get"))

    def _get_folder(self, match: re.Match[str], request: Request) -> JSON:
        node = self._node(match[1], "resourcemanager.folders.get")
        return {"name": node.name, "parent": node.parent, "displayName": node.display_name, "state": "ACTIVE",
                **_TIMES, "etag": "W/\"a1\""}

    def _get_organization(self, match: re.Match[str], request: Request) -> JSON:
        node = self._node(match[1], "resourcemanager.organizations.get")
        return {"name": node.name, "displayName": node.display_name, "directoryCustomerId": "C0abcdefg",
                "state": "ACTIVE", **_TIMES, "etag": "W/\"o1\""}

    def _get_policy(self, match: re.Match[str], request: Request) -> JSON:
        kind = match[1].split("/", 1)[0]
        node = self._node(match[1], f"resourcemanager.{kind}.getIamPolicy")
        options = request.body.get("options") or {}
        requested = options.get("requestedPolicyVersion", 0) if isinstance(options, dict) else 0
        if requested not in (0, 1, 3):
            raise ApiError(400, f"Invalid requested policy version: {requested}. Valid values are 0, 1 and 3.")
        if node.policy is None:
            return {"version": 1, "etag": "BwXhqDPKWvE="}
        return policy_for_version(node.policy, int(requested))

    def _list(self, kind: str) -> Handler:
        def handle(match: re.Match[str], request: Request) -> JSON:
            parent = request.param("parent")
            if not parent:
                raise ApiError(400, "Request contains an invalid argument.")
            if self.estate.node(parent) is None:
                raise ApiError(403, _NO_PERMISSION)
            self.check(self.estate.resolve(parent), f"resourcemanager.{kind}s.list", _NO_PERMISSION)
            children = self.estate.children(self.estate.resolve(parent), kind)
            items = [project_json(n) if kind == "project" else
                     {"name": n.name, "parent": n.parent, "displayName": n.display_name, "state": "ACTIVE", **_TIMES}
                     for n in children]
            return self.page(f"{parent}/{kind}s", items, request, f"{kind}s", _DEFAULT_PAGE, _MAX_PAGE)
        return handle


def project_json(node: Node) -> JSON:
    return {"name": node.name, "parent": node.parent, "projectId": node.project_id, "state": "ACTIVE",
            "displayName": node.display_name, **_TIMES, "etag": "W/\"p1\""}
