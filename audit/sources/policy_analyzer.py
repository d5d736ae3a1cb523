"""Effective access from Google's Policy Analyzer (Cloud Asset Inventory's analyzeIamPolicy), read-only: the
backend for `scan --effective-access policy-analyzer --organization ID`.

Policy Analyzer resolves the hierarchy and expands roles itself. Asked, for each repository and Container
Registry bucket, who holds each permission a capability needs (`capabilities.py`), it answers one result per
IAM binding that grants any of them, on the resource or anything above it: where the binding is attached, its
role, members and condition, and the permissions it grants there. So:

* capabilities come from each binding's permissions, as the local backend takes them from each grant's role;
* changing IAM above a resource is asked on each project, folder and organization above it (its own
  setIamPolicy permission), with the ancestry from the resource's Cloud Asset search result;
* a Container Registry bucket's ACL entries (Policy Analyzer reads IAM policies only) are taken as the audit
  read them, as the local backend takes them;
* impersonation is asked the same way: each customer-managed service account that has a capability is found
  in Cloud Asset by its email (a free-text search; the one ServiceAccount asset it matches), and who holds a
  permission that acts as it (`capabilities.ACTING_PERMISSIONS`) on it or above it is asked; then the same for
  each service account among those, along chains of up to `MAX_HOPS` accounts (as the local backend follows
  them: `effective_access.follow_impersonation`).

Policy Analyzer sees only the policies inside its scope, so the scope is the organization. Whatever it could not
answer (a result not fully explored, an account it cannot find, an error) leaves what depends on it unjudged. A
caller who may not use Policy Analyzer on the organization (403) gets the local backend instead (the scan does
that, and says so).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from google.api_core import exceptions as gexc
from google.auth.credentials import Credentials
from google.cloud import asset_v1
from registry_guard.catalogue.access_model import (
    MAX_HOPS,
    NOT_FOLLOWED,
    Access,
    AccessPath,
    EffectiveAccess,
    Hop,
    NotJudged,
)
from registry_guard.catalogue.capabilities import (
    ACTING_PERMISSIONS,
    ANCESTOR_SET_IAM,
    CAPABILITIES,
    Capability,
    ResourceKind,
    acl_permissions,
    capabilities_of,
    permissions_for,
)
from registry_guard.catalogue.effective_access import follow_impersonation, project_of, registry_resources
from registry_guard.catalogue.model import Condition, RegistryState, ResourceRef, is_unknown

from audit.errors import ScanError
from audit.sources.google_access import client_options
from audit.sources.google_calls import READ_FAILURES, describe_failure, read_retry
from audit.sources.source import ReportTarget, SourceRead

CRM: Final = "//cloudresourcemanager.googleapis.com/"
REPOSITORY_TYPE: Final = "artifactregistry.googleapis.com/Repository"
BUCKET_TYPE: Final = "storage.googleapis.com/Bucket"
ACCOUNT_TYPE: Final = "iam.googleapis.com/ServiceAccount"
_ACL_SHAPES: Final = frozenset({"bucket-acl", "default-object-acl", "object-acl"})
BASIS: Final = ("Policy Analyzer (Cloud Asset Inventory analyzeIamPolicy) over the organization: who holds each "
                "permission a capability needs on each repository and bucket, on each project, folder and the "
                "organization above it, and on each service account that has access, and then on each that may act "
                f"as those (chains of up to {MAX_HOPS} accounts). " + NOT_FOLLOWED)


class AnalyzerUnavailable(Exception):
    """The caller may not use Policy Analyzer (or Cloud Asset search) on the organization."""


def full_name(resource: ResourceRef) -> str:
    if resource.kind == "repository":
        return f"//artifactregistry.googleapis.com/{resource.name}"
    return f"//storage.googleapis.com/{resource.name}"


@dataclass(frozen=True)
class _Binding:
    attached: str
    role: str
    members: tuple[str, ...]
    condition: Condition | None
    permissions: frozenset[str]


@dataclass
class _Where:
    """A resource's place in the hierarchy, from its Cloud Asset search result."""

    project_id: str
    project_number: str
    folders: tuple[str, ...] = ()
    organization: str | None = None

    def ancestors(self) -> list[tuple[ResourceRef, str]]:
        """(ref, full name) of the project, each folder and the organization above, nearest first."""
        out = [(ResourceRef("project", self.project_id), f"{CRM}projects/{self.project_number}")]
        out += [(ResourceRef("folder", f), f"{CRM}{f}") for f in self.folders]
        if self.organization:
            out.append((ResourceRef("organization", self.organization), f"{CRM}{self.organization}"))
        return out


@dataclass
class _State:
    errors: list[ScanError] = field(default_factory=list)
    not_judged: list[NotJudged] = field(default_factory=list)
    requests: int = 0


class _Analyzer:
    def __init__(self, organization: str, *, asset_endpoint: str | None, credentials: Credentials | None,
                 timeout: float, retry_deadline: float) -> None:
        options, creds = client_options(asset_endpoint, credentials, "Cloud Asset")
        self.client = asset_v1.AssetServiceClient(transport="rest", credentials=creds, client_options=options)
        self.scope = f"organizations/{organization.removeprefix('organizations/')}"
        self.timeout = timeout
        self.retry = read_retry(retry_deadline)
        self.state = _State()
        self.cache: dict[tuple[str, frozenset[str]], list[_Binding] | str] = {}
        self.accounts: dict[str, tuple[str, _Where] | None] = {}  # each account is searched for once a scan

    def close(self) -> None:
        self.client.transport.close()  # type: ignore[no-untyped-call]

    def _call(self, call: Callable[[], Any]) -> Any:
        self.state.requests += 1
        return self.retry(call)()

    # -- Cloud Asset search --------------------------------------------------------------------

    def places(self) -> dict[str, _Where]:
        """full name -> place, for every repository and bucket in the organization."""
        out: dict[str, _Where] = {}
        try:
            results = self._call(lambda: self.client.search_all_resources(
                request={"scope": self.scope, "asset_types": [REPOSITORY_TYPE, BUCKET_TYPE], "page_size": 500},
                retry=self.retry, timeout=self.timeout))
            for result in results:
                number = result.project.split("/", 1)[-1]
                # A repository's name carries its project ID; a bucket's project ID comes from its name later.
                project_id = result.name.split("/")[4] if result.asset_type == REPOSITORY_TYPE else number
                out[result.name] = _Where(project_id, number, tuple(result.folders), result.organization or None)
        except (gexc.Forbidden, gexc.PermissionDenied) as exc:
            raise AnalyzerUnavailable(describe_failure(exc)) from None
        return out

    def account(self, email: str) -> tuple[str, _Where] | None:
        """The Cloud Asset full name of the service account with this email and its project, or None when the
        search does not find exactly one whose email attribute it is."""
        if email not in self.accounts:
            self.accounts[email] = self._search_account(email)
        return self.accounts[email]

    def _search_account(self, email: str) -> tuple[str, _Where] | None:
        try:
            results = list(self._call(lambda: self.client.search_all_resources(
                request={"scope": self.scope, "asset_types": [ACCOUNT_TYPE], "query": f'"{email}"'},
                retry=self.retry, timeout=self.timeout)))
        except READ_FAILURES as exc:
            self.state.errors.append(ScanError("policy-analyzer", f"service account {email}", describe_failure(exc)))
            return None
        # The free-text query matches the email anywhere among an account's attributes: only an account whose
        # email attribute is exactly this one counts. Should Google rename that attribute, no account is found
        # and who may act as it is could not judge, never nobody.
        found = [r for r in results if str(dict(r.additional_attributes or {}).get("email", "")).lower() == email]
        if len(found) != 1:
            return None
        name = found[0].name  # //iam.googleapis.com/projects/PROJECT_ID/serviceAccounts/...
        return name, _Where(name.split("/")[4], found[0].project.split("/", 1)[-1])

    # -- Policy Analyzer -----------------------------------------------------------------------

    def bindings(self, resource: str, permissions: frozenset[str]) -> list[_Binding] | str:
        """Every binding on `resource` or above it that grants any of `permissions`, or why not known."""
        key = (resource, permissions)
        if key in self.cache:
            return self.cache[key]
        try:
            response = self._call(lambda: self.client.analyze_iam_policy(request={"analysis_query": {
                "scope": self.scope, "resource_selector": {"full_resource_name": resource},
                "access_selector": {"permissions": sorted(permissions)}}}, retry=self.retry, timeout=self.timeout))
        except (gexc.Forbidden, gexc.PermissionDenied) as exc:
            raise AnalyzerUnavailable(describe_failure(exc)) from None
        except READ_FAILURES as exc:
            why = describe_failure(exc)
            self.state.errors.append(ScanError("policy-analyzer", resource, why))
            self.cache[key] = f"Policy Analyzer did not answer for {resource} ({why})"
            return self.cache[key]
        analysis = response.main_analysis
        if not (response.fully_explored and analysis.fully_explored) or analysis.non_critical_errors:
            why = f"Policy Analyzer did not explore {resource} fully"
            self.state.errors.append(ScanError("policy-analyzer", resource, why))
            self.cache[key] = why
            return why
        found = []
        for result in analysis.analysis_results:
            if not result.fully_explored:
                self.cache[key] = f"Policy Analyzer did not explore a binding on {result.attached_resource_full_name}"
                return self.cache[key]
            binding = result.iam_binding
            condition = (Condition(binding.condition.expression, binding.condition.title,
                                   binding.condition.description) if binding.condition.expression else None)
            granted = frozenset(a.permission for acl in result.access_control_lists for a in acl.accesses
                                if a.permission) & permissions
            found.append(_Binding(result.attached_resource_full_name, binding.role, tuple(binding.members),
                                  condition, granted))
        self.cache[key] = found
        return found


def _target(attached: str, resource: ResourceRef, where: _Where, account: str | None = None,
            account_name: str | None = None) -> ResourceRef:
    if attached == full_name(resource):
        return resource
    if account is not None and attached == account_name:
        return ResourceRef("service-account", account)
    if attached.startswith(CRM):
        name = attached[len(CRM):]
        if name.startswith("projects/"):
            key = name.split("/", 1)[1]
            return ResourceRef("project", where.project_id if key == where.project_number else key)
        return ResourceRef("folder" if name.startswith("folders/") else "organization", name)
    return ResourceRef("service-account", account) if account else resource


def analyze_effective_access(state: RegistryState, organization: str, *, asset_endpoint: str | None = None,
                             credentials: Credentials | None = None, timeout: float = 30.0,
                             retry_deadline: float = 60.0) -> SourceRead:
    """EffectiveAccess for `state`'s repositories and buckets from Policy Analyzer; AnalyzerUnavailable when the
    caller may not use it on the organization."""
    analyzer = _Analyzer(organization, asset_endpoint=asset_endpoint, credentials=credentials, timeout=timeout,
                         retry_deadline=retry_deadline)
    try:
        effective = _analyze(analyzer, state)
    finally:
        analyzer.close()
    target = {"backend": "policy-analyzer", "basis": BASIS, "scope": analyzer.scope,
              "requests": analyzer.state.requests}
    return SourceRead(RegistryState(effective=effective), tuple(analyzer.state.errors), frozenset(),
                      ReportTarget("effective_access", target, listed=False), requests=analyzer.state.requests)


def _analyze(analyzer: _Analyzer, state: RegistryState) -> EffectiveAccess:
    places = analyzer.places()
    resources = registry_resources(state)
    accesses: list[Access] = []
    for resource in resources:
        accesses += _resource(analyzer, resource, places.get(full_name(resource)), state)
    return EffectiveAccess(resources, tuple(accesses), tuple(dict.fromkeys(analyzer.state.not_judged)),
                           "policy-analyzer", BASIS)


def _resource(analyzer: _Analyzer, resource: ResourceRef, where: _Where | None, state: RegistryState,
              ) -> list[Access]:
    gap = analyzer.state.not_judged
    if where is None:
        gap.append(NotJudged(resource, "Cloud Asset Inventory does not list it in the organization", CAPABILITIES))
        return []
    if resource.kind == "bucket":  # the search result names its project by number; its name says the ID
        where.project_id = project_of(resource) or where.project_id
    kind: ResourceKind = "repository" if resource.kind == "repository" else "bucket"
    wanted = permissions_for(kind)
    paths: dict[tuple[str, Capability], list[AccessPath]] = defaultdict(list)
    found = analyzer.bindings(full_name(resource), wanted)
    if isinstance(found, str):
        gap.append(NotJudged(resource, found, CAPABILITIES))
        found = []
    for binding in found:
        for capability in capabilities_of(binding.permissions, kind):
            for member in binding.members:
                paths[(member, capability)].append(AccessPath(
                    _target(binding.attached, resource, where), binding.role, "iam-policy", binding.condition,
                    source="cloudasset analyzeIamPolicy"))
    # Policy Analyzer reads IAM policies only: the bucket's ACL entries, as the audit read them, join its answer.
    for grant in state.grants:
        if grant.target == resource and grant.shape in _ACL_SHAPES and not is_unknown(grant.role) \
                and not is_unknown(grant.member):
            granted = acl_permissions(grant.shape, grant.role)
            if granted is None:
                gap.append(NotJudged(resource, f"ACL entry {grant.role} is not one Cloud Storage defines",
                                     CAPABILITIES, grant.member))
                continue
            for capability in capabilities_of(granted, kind):
                paths[(grant.member, capability)].append(AccessPath(resource, grant.role, grant.shape,
                                                                    source=grant.source))
    # Changing IAM above: each ancestor's own setIamPolicy, asked on that ancestor.
    for ref, name in where.ancestors():
        permission = ANCESTOR_SET_IAM[ref.kind]
        above = analyzer.bindings(name, frozenset({permission}))
        if isinstance(above, str):
            gap.append(NotJudged(resource, above, ("change-iam",)))
            continue
        for binding in above:
            if permission in binding.permissions:
                for member in binding.members:
                    path = AccessPath(_target(binding.attached, resource, where), binding.role, "iam-policy",
                                      binding.condition, source="cloudasset analyzeIamPolicy")
                    if path not in paths[(member, "change-iam")]:
                        paths[(member, "change-iam")].append(path)
    # Who may act as the service accounts that have a path, along chains of accounts.
    def acting(email: str) -> list[tuple[str, Hop]] | str:
        account = analyzer.account(email)
        if account is None:
            return (f"Cloud Asset Inventory does not find service account {email} in the organization: who may act "
                    "as it cannot be told")
        name, account_where = account
        bindings = analyzer.bindings(name, ACTING_PERMISSIONS)
        if isinstance(bindings, str):
            return bindings
        return [(member, Hop(email, binding.role, _target(binding.attached, resource, account_where, email, name),
                             binding.condition))
                for binding in bindings if binding.permissions for member in binding.members]

    follow_impersonation(resource, paths, acting, gap)
    return [Access(resource, member, capability, tuple(found_paths))
            for (member, capability), found_paths in sorted(paths.items(),
                                                            key=lambda kv: (kv[0][0], CAPABILITIES.index(kv[0][1])))]
