"""What the Resource Manager, IAM and Cloud Asset stand-ins serve: one organization's hierarchy (organizations,
folders, projects), the IAM policy of each node and of each service account, custom roles, and the registry's
resources (Artifact Registry repositories and Container Registry buckets) as Cloud Asset Inventory indexes them.

The three stand-ins share one estate, as the real services share one Google Cloud: a grant added here is seen
by `getIamPolicy` on Resource Manager, by `searchAllIamPolicies` and by `analyzeIamPolicy` alike. Predefined
roles come from the catalogue's snapshot of Google's roles (cut to the permissions the audit reads).

Safe to change while the servers run (a lock guards it).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from registry_guard.catalogue.capabilities import predefined_roles

from localdev.artifact_registry.wire import JSON, iam_policy_json

CRM: str = "//cloudresourcemanager.googleapis.com/"


@dataclass
class Node:
    """An organization, folder or project: its resource name (`projects/NUMBER` for a project), parent and
    the fields the API returns."""

    name: str
    parent: str | None
    display_name: str
    project_id: str | None = None  # projects only
    policy: JSON | None = None


@dataclass
class ServiceAccount:
    email: str
    project_id: str
    unique_id: str
    policy: JSON | None = None


@dataclass
class Asset:
    """A repository or bucket as Cloud Asset Inventory lists it."""

    # //artifactregistry.googleapis.com/projects/P/locations/L/repositories/R, //storage.googleapis.com/B
    full_name: str
    asset_type: str
    project: str  # projects/NUMBER
    location: str
    display_name: str
    policy: JSON | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class IamEstate:
    """The in-memory hierarchy, policies, roles, service accounts and assets the stand-ins serve."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nodes: dict[str, Node] = {}
        self._project_ids: dict[str, str] = {}  # project id -> projects/NUMBER
        self._custom_roles: dict[str, JSON] = {}
        self._accounts: dict[str, ServiceAccount] = {}
        self._assets: dict[str, Asset] = {}
        self._denied: dict[str, frozenset[str] | None] = {}
        self._next_number = 100_000_000_000

    # -- building ----------------------------------------------------------------------------

    def add_organization(self, number: str, domain: str = "example.com") -> str:
        name = f"organizations/{number}"
        with self._lock:
            self._nodes[name] = Node(name, None, domain)
        return name

    def add_folder(self, number: str, parent: str, display_name: str | None = None) -> str:
        name = f"folders/{number}"
        with self._lock:
            self._require(parent)
            self._nodes[name] = Node(name, parent, display_name or f"folder-{number}")
        return name

    def add_project(self, project_id: str, parent: str, number: str | None = None) -> str:
        """Add a project; returns its resource name `projects/NUMBER` (numbers are given out if not set)."""
        with self._lock:
            self._require(parent)
            if number is None:
                self._next_number += 1
                number = str(self._next_number)
            name = f"projects/{number}"
            self._nodes[name] = Node(name, parent, project_id, project_id=project_id)
            self._project_ids[project_id] = name
        return name

    def set_policy(self, resource: str, bindings: Iterable[JSON], *, etag: bytes | None = None) -> None:
        """The IAM policy of an organization, folder, project (by name or `projects/ID`), service account
        (`projects/P/serviceAccounts/EMAIL`) or asset (its full name)."""
        policy = iam_policy_json(bindings, etag=etag)
        with self._lock:
            if "/serviceAccounts/" in resource:
                self._accounts[resource.rsplit("/", 1)[1].lower()].policy = policy
            elif resource.startswith("//"):
                self._assets[resource].policy = policy
            else:
                self._nodes[self._resolve(resource)].policy = policy

    def add_custom_role(self, parent: str, role_id: str, permissions: Iterable[str], *, title: str = "",
                        stage: str = "GA", deleted: bool = False) -> str:
        """A custom role of `projects/ID` or `organizations/N`; returns its name."""
        name = f"{parent}/roles/{role_id}"
        body: JSON = {"name": name, "title": title or role_id, "includedPermissions": sorted(set(permissions)),
                      "stage": stage, "etag": "BwYAAAAAAAA="}
        if deleted:
            body["deleted"] = True
        with self._lock:
            self._custom_roles[name] = body
        return name

    def add_service_account(self, project_id: str, account_id: str) -> str:
        email = f"{account_id}@{project_id}.iam.gserviceaccount.com"
        with self._lock:
            unique = str(100_000_000_000_000_000_000 + len(self._accounts))
            self._accounts[email] = ServiceAccount(email, project_id, unique)
        return email

    def add_repository(self, project_id: str, location: str, repository_id: str,
                       bindings: Iterable[JSON] = ()) -> str:
        """An Artifact Registry repository as Cloud Asset Inventory indexes it; returns its full name."""
        full = f"//artifactregistry.googleapis.com/projects/{project_id}/locations/{location}/repositories/" \
               f"{repository_id}"
        with self._lock:
            project = self._resolve(f"projects/{project_id}")
            self._assets[full] = Asset(full, "artifactregistry.googleapis.com/Repository", project, location,
                                       repository_id, extra={"format": "DOCKER"})
        if bindings:
            self.set_policy(full, bindings)
        return full

    def add_bucket(self, project_id: str, bucket: str, location: str = "us", bindings: Iterable[JSON] = ()) -> str:
        full = f"//storage.googleapis.com/{bucket}"
        with self._lock:
            project = self._resolve(f"projects/{project_id}")
            self._assets[full] = Asset(full, "storage.googleapis.com/Bucket", project, location, bucket)
        if bindings:
            self.set_policy(full, bindings)
        return full

    def deny(self, resource: str, permissions: Iterable[str] | None = None) -> None:
        """Answer 403 for calls on `resource` (and what is under it in its name): for every call, or only
        those that need one of `permissions`, e.g. {"resourcemanager.folders.getIamPolicy"}."""
        with self._lock:
            self._denied[resource] = frozenset(permissions) if permissions is not None else None

    # -- reading -----------------------------------------------------------------------------

    def _require(self, name: str) -> None:
        if name not in self._nodes:
            raise KeyError(name)

    def _resolve(self, name: str) -> str:
        """`projects/ID` or `projects/NUMBER` to `projects/NUMBER`; other names as they are."""
        if name.startswith("projects/"):
            key = name.split("/", 1)[1]
            return self._project_ids.get(key, name)
        return name

    def node(self, name: str) -> Node | None:
        with self._lock:
            node = self._nodes.get(self._resolve(name))
            return None if node is None else Node(node.name, node.parent, node.display_name, node.project_id,
                                                  _copy(node.policy))

    def resolve(self, name: str) -> str:
        with self._lock:
            return self._resolve(name)

    def children(self, parent: str, kind: str) -> list[Node]:
        """The folders or projects directly under `parent`, by name."""
        with self._lock:
            return sorted((n for n in self._nodes.values() if n.parent == parent and n.name.startswith(kind + "s/")),
                          key=lambda n: n.name)

    def ancestry(self, name: str) -> list[str]:
        """`name` and every node above it, nearest first."""
        with self._lock:
            out: list[str] = []
            current: str | None = self._resolve(name)
            while current is not None and current in self._nodes:
                out.append(current)
                current = self._nodes[current].parent
            return out

    def descendants(self, scope: str) -> set[str]:
        """Every node at or under `scope`."""
        with self._lock:
            root = self._resolve(scope)
        return {n for n in self.all_nodes() if root in self.ancestry(n)}

    def all_nodes(self) -> list[str]:
        with self._lock:
            return sorted(self._nodes)

    def custom_role(self, name: str) -> JSON | None:
        with self._lock:
            return _copy(self._custom_roles.get(name))

    def custom_roles(self, parent: str) -> list[JSON]:
        with self._lock:
            return [_copy_json(r) for n, r in sorted(self._custom_roles.items()) if n.startswith(parent + "/roles/")]

    @staticmethod
    def predefined_role(name: str) -> JSON | None:
        role = predefined_roles().roles.get(name)
        if role is None:
            return None
        return {"name": role.name, "title": role.title, "includedPermissions": sorted(role.permissions),
                "stage": role.stage, "etag": "AA=="}

    @staticmethod
    def predefined_role_names() -> list[str]:
        return sorted(predefined_roles().roles)

    def role_permissions(self, name: str) -> frozenset[str]:
        role = self.predefined_role(name) if name.startswith("roles/") else self.custom_role(name)
        return frozenset(role.get("includedPermissions", ())) if role else frozenset()

    def service_account(self, key: str) -> ServiceAccount | None:
        """By email or unique id."""
        with self._lock:
            account = self._accounts.get(key.lower()) or next(
                (a for a in self._accounts.values() if a.unique_id == key), None)
            return None if account is None else ServiceAccount(account.email, account.project_id,
                                                               account.unique_id, _copy(account.policy))

    def service_accounts(self) -> list[ServiceAccount]:
        with self._lock:
            return [ServiceAccount(a.email, a.project_id, a.unique_id, _copy(a.policy))
                    for _, a in sorted(self._accounts.items())]

    def assets(self) -> list[Asset]:
        with self._lock:
            return [Asset(a.full_name, a.asset_type, a.project, a.location, a.display_name, _copy(a.policy),
                          dict(a.extra)) for _, a in sorted(self._assets.items())]

    def is_denied(self, resource: str, permission: str) -> bool:
        with self._lock:
            return any((resource == denied or resource.startswith(denied + "/") or resource.startswith(denied + ":"))
                       and (perms is None or permission in perms) for denied, perms in self._denied.items())

    def policies(self) -> Iterator[tuple[str, str, JSON]]:
        """(full resource name, asset type, policy) of every resource with a policy, as Cloud Asset names them."""
        for name in self.all_nodes():
            node = self.node(name)
            if node is not None and node.policy is not None:
                kind = name.split("/", 1)[0][:-1]
                yield CRM + name, f"cloudresourcemanager.googleapis.com/{kind.capitalize()}", node.policy
        for account in self.service_accounts():
            if account.policy is not None:
                yield (f"//iam.googleapis.com/projects/{account.project_id}/serviceAccounts/{account.unique_id}",
                       "iam.googleapis.com/ServiceAccount", account.policy)
        for asset in self.assets():
            if asset.policy is not None:
                yield asset.full_name, asset.asset_type, asset.policy


def _copy(value: JSON | None) -> JSON | None:
    return None if value is None else _copy_json(value)


def _copy_json(value: JSON) -> JSON:
    copied: JSON = json.loads(json.dumps(value))
    return copied
