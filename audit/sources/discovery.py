"""Org scale: every Artifact Registry repository and Container Registry bucket under an organization, a folder
or a list of projects, in the locations asked for (or all of them), read-only.

First through Cloud Asset Inventory (`google-cloud-asset`, REST: searchAllResources with the repository and
bucket asset types), the service Google runs for exactly this across an organization. Where the caller may not
search a scope (403) or the search fails, that scope falls back to listing: its projects through Resource
Manager (folders.list and projects.list, down every folder), each project's Artifact Registry locations
(ListLocations, for `--location all`) and its buckets (Cloud Storage buckets.list), keeping the Container
Registry ones. What neither could list is a read error: the scan is incomplete, never "nothing there".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from google.api_core import exceptions as gexc
from google.auth.credentials import Credentials
from google.cloud import asset_v1, resourcemanager_v3
from google.cloud.location import locations_pb2
from registry_guard.catalogue.container_registry import container_registry_of_bucket

from audit.errors import ScanError
from audit.sources.artifact_registry import make_client as artifact_registry_client
from audit.sources.google_access import client_options
from audit.sources.google_calls import READ_FAILURES, describe_failure, read_retry

ALL_LOCATIONS: Final = "all"
REPOSITORY_TYPE: Final = "artifactregistry.googleapis.com/Repository"
BUCKET_TYPE: Final = "storage.googleapis.com/Bucket"
_REPOSITORY_NAME: Final = re.compile(r"//artifactregistry\.googleapis\.com/projects/([^/]+)/locations/([^/]+)/"
                                     r"repositories/([^/]+)")
_ASSET_PAGE: Final = 500  # searchAllResources: "Page size is capped at 500"
_T = TypeVar("_T")


@dataclass(frozen=True)
class Scope:
    """What to discover under: `organizations/ID`, `folders/ID` or `projects/ID`."""

    name: str

    @property
    def kind(self) -> str:
        return self.name.split("/", 1)[0][:-1]


@dataclass
class Discovery:
    """Where the repositories are: (project, location) -> repository ids, or None to list them all there; the
    Container Registry buckets; how each scope was listed; what could not be."""

    registries: dict[tuple[str, str], list[str] | None] = field(default_factory=dict)
    buckets: list[str] = field(default_factory=list)
    how: dict[str, str] = field(default_factory=dict)
    errors: list[ScanError] = field(default_factory=list)

    def target(self) -> dict[str, Any]:
        return {"scopes": dict(self.how), "project_locations": len(self.registries),
                "repositories_found": sum(len(r) for r in self.registries.values() if r is not None),
                "buckets": len(self.buckets)}


def scopes_of(organization: str | None, folder: str | None, projects: tuple[str, ...]) -> list[Scope]:
    if sum(bool(x) for x in (organization, folder, projects)) != 1:
        raise ValueError("give one of --organization, --folder or --project (repeatable)")
    if organization:
        return [Scope(f"organizations/{organization.removeprefix('organizations/')}")]
    if folder:
        return [Scope(f"folders/{folder.removeprefix('folders/')}")]
    return [Scope(f"projects/{p.removeprefix('projects/')}") for p in projects]


class _Discoverer:
    def __init__(self, locations: tuple[str, ...], *, asset_endpoint: str | None, resource_manager_endpoint: str | None,
                 artifact_registry_endpoint: str | None, credentials: Credentials | None, timeout: float,
                 retry_deadline: float) -> None:
        self.locations = locations
        self.every_location = ALL_LOCATIONS in locations
        options, creds = client_options(asset_endpoint, credentials, "Cloud Asset")
        self.asset = asset_v1.AssetServiceClient(transport="rest", credentials=creds, client_options=options)
        options, creds = client_options(resource_manager_endpoint, credentials, "Resource Manager")
        self.projects = resourcemanager_v3.ProjectsClient(transport="rest", credentials=creds, client_options=options)
        self.folders = resourcemanager_v3.FoldersClient(transport="rest", credentials=creds, client_options=options)
        self.ar = artifact_registry_client(artifact_registry_endpoint, credentials)
        self.credentials = credentials
        self.timeout = timeout
        self.retry = read_retry(retry_deadline)
        self.found = Discovery()

    def close(self) -> None:
        for client in (self.asset, self.projects, self.folders, self.ar):
            client.transport.close()  # type: ignore[no-untyped-call]

    def _call(self, call: Callable[[], _T]) -> _T:
        return self.retry(call)()

    # -- Cloud Asset Inventory ----------------------------------------------------------------

    def search(self, scope: Scope) -> str | None:
        """Everything in `scope` through Cloud Asset Inventory; why not, when it could not be searched."""
        registries: dict[tuple[str, str], list[str] | None] = {}
        buckets: list[str] = []
        try:
            pager = self._call(lambda: self.asset.search_all_resources(
                request={"scope": scope.name, "asset_types": [REPOSITORY_TYPE, BUCKET_TYPE], "page_size": _ASSET_PAGE},
                retry=self.retry, timeout=self.timeout))
            for result in pager:
                if result.asset_type == REPOSITORY_TYPE:
                    match = _REPOSITORY_NAME.fullmatch(result.name)
                    if match is None:
                        continue
                    project, location, repository = match.groups()
                    if self.every_location or location in self.locations:
                        listed = registries.setdefault((project, location), [])
                        assert listed is not None
                        listed.append(repository)
                elif result.asset_type == BUCKET_TYPE:
                    bucket = result.name.rsplit("/", 1)[-1]
                    if container_registry_of_bucket(bucket) is not None:
                        buckets.append(bucket)
        except READ_FAILURES as exc:
            return describe_failure(exc)
        for key, repositories in registries.items():
            self.found.registries.setdefault(key, [])
            existing = self.found.registries[key]
            if existing is not None and repositories is not None:
                existing.extend(r for r in repositories if r not in existing)
        self.found.buckets += [b for b in buckets if b not in self.found.buckets]
        return None

    # -- the fallback: listing project by project ---------------------------------------------

    def projects_under(self, scope: Scope) -> Iterator[str]:
        if scope.kind == "project":
            yield scope.name.split("/", 1)[1]
            return
        pending = [scope.name]
        while pending:
            parent = pending.pop(0)
            try:
                for project in self._call(lambda p=parent: self.projects.list_projects(  # type: ignore[misc]
                        request={"parent": p}, retry=self.retry, timeout=self.timeout)):
                    yield project.project_id
                pending += [f.name for f in self._call(lambda p=parent: self.folders.list_folders(  # type: ignore[misc]
                    request={"parent": p}, retry=self.retry, timeout=self.timeout))]
            except READ_FAILURES as exc:
                self.found.errors.append(ScanError("discovery", parent, f"projects and folders under it not listed "
                                                                         f"completely: {describe_failure(exc)}"))

    def project_locations(self, project: str) -> list[str]:
        if not self.every_location:
            return list(self.locations)
        locations: list[str] = []
        token = ""
        try:
            while True:
                request = locations_pb2.ListLocationsRequest(name=f"projects/{project}", page_token=token)
                response = self._call(lambda r=request: self.ar.list_locations(  # type: ignore[misc]
                    request=r, retry=self.retry, timeout=self.timeout))
                locations += [location.location_id for location in response.locations]
                token = response.next_page_token
                if not token:
                    return locations
        except READ_FAILURES as exc:
            self.found.errors.append(ScanError("discovery", f"projects/{project}",
                                               f"Artifact Registry locations not listed: {describe_failure(exc)}"))
            return locations

    def project_buckets(self, project: str) -> list[str]:
        from google.cloud import storage  # type: ignore[attr-defined,unused-ignore]

        try:
            client = storage.Client(project=project, credentials=self.credentials)
            names = [b.name for b in self._call(lambda: list(client.list_buckets(timeout=self.timeout)))]
        except (*READ_FAILURES, gexc.GoogleAPIError) as exc:
            self.found.errors.append(ScanError("discovery", f"projects/{project}",
                                               f"Cloud Storage buckets not listed: {describe_failure(exc)}"))
            return []
        return [n for n in names if container_registry_of_bucket(n) is not None]

    def list_scope(self, scope: Scope) -> None:
        for project in self.projects_under(scope):
            for location in self.project_locations(project):
                self.found.registries[(project, location)] = None  # the source lists every repository there
            self.found.buckets += [b for b in self.project_buckets(project) if b not in self.found.buckets]


def discover(scopes: list[Scope], locations: tuple[str, ...], *, asset_endpoint: str | None = None,
             resource_manager_endpoint: str | None = None, artifact_registry_endpoint: str | None = None,
             credentials: Credentials | None = None, timeout: float = 30.0, retry_deadline: float = 60.0) -> Discovery:
    """Every repository and Container Registry bucket under `scopes` in `locations` (or `all`)."""
    if not locations:
        raise ValueError("--location is needed (repeatable, or `all`)")
    discoverer = _Discoverer(locations, asset_endpoint=asset_endpoint,
                             resource_manager_endpoint=resource_manager_endpoint,
                             artifact_registry_endpoint=artifact_registry_endpoint, credentials=credentials,
                             timeout=timeout, retry_deadline=retry_deadline)
    try:
        for scope in scopes:
            why = discoverer.search(scope)
            if why is None:
                discoverer.found.how[scope.name] = "Cloud Asset Inventory"
                continue
            discoverer.found.how[scope.name] = f"listed project by project (Cloud Asset Inventory: {why})"
            discoverer.list_scope(scope)
    finally:
        discoverer.close()
    return discoverer.found
