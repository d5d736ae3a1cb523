"""Effective access source: what lies above the registry and who may act as its service accounts, read-only.

Given what the other sources read (repositories, Container Registry buckets and their IAM), it reads:

* through Resource Manager (`google-cloud-resource-manager`, REST): each project's ancestry (projects.get,
  folders.get up to the organization) and the IAM policy (version 3, conditions kept) of the project and of
  every folder and the organization above it;
* through IAM (REST, parsed with `google-cloud-iam`'s own message types: its IAM admin client speaks only
  gRPC): every role those policies name (roles.get, once per role per scan), and the IAM policy of every
  customer-managed service account that holds access to the registry (serviceAccounts.getIamPolicy), with its
  own project's ancestry and policies (project-level impersonation roles); then the same for each service
  account that may act as one of those, and so on along chains of up to `MAX_HOPS` accounts.

A predefined role the roles API does not answer is read from the bundled snapshot (`catalogue/
predefined_roles.json`), and the report says so; a custom role has no fallback. Whatever could not be read is
a `ScanError` and is recorded in the access context, so what depends on it is "could not judge".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar
from urllib.parse import quote, urlsplit

import requests
from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import iam_admin_v1, resourcemanager_v3
from google.iam.v1 import iam_policy_pb2, policy_pb2
from google.protobuf import json_format
from registry_guard.catalogue.access_model import MAX_HOPS, NOT_FOLLOWED, AccessContext, RoleDefinition
from registry_guard.catalogue.capabilities import (
    RELEVANT_PERMISSIONS,
    acl_permissions,
    can_act_as,
    capabilities_of,
    is_predefined_role,
    predefined_roles,
)
from registry_guard.catalogue.effective_access import account_project, is_google_managed, project_of
from registry_guard.catalogue.model import UNKNOWN, Condition, Grant, RegistryState, ResourceRef, is_unknown
from registry_guard.catalogue.principals import parse_member

from audit.errors import ScanError
from audit.sources.google_calls import READ_FAILURES, describe_failure, read_retry
from audit.sources.source import ReportTarget, SourceRead
from audit.sources.urls import is_loopback_host

IAM_POLICY_VERSION: Final = 3
DEFAULT_IAM_ENDPOINT: Final = "https://iam.googleapis.com"
BASIS: Final = ("the IAM of each repository and bucket, of its project and of every folder and the organization "
                "above it (Resource Manager), the roles they name (IAM roles API), and who may act as the service "
                "accounts that hold access and as the accounts that may act as those, along chains of up to "
                f"{MAX_HOPS} accounts (their IAM policies and their projects'). " + NOT_FOLLOWED)
_T = TypeVar("_T")


def client_options(endpoint: str | None, credentials: Credentials | None,
                   what: str) -> tuple[ClientOptions | None, Credentials | None]:
    """Endpoint options for a Google client. Plain http only to loopback (a local stand-in), and there
    anonymous credentials unless some are given: credentials must never go out in clear."""
    if not endpoint:
        return None, credentials
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    if parts.scheme == "http":
        if not (parts.hostname and is_loopback_host(parts.hostname)):
            raise ValueError(f"an http:// {what} endpoint must be loopback; use https")
        if credentials is None:
            credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
    elif parts.scheme != "https":
        raise ValueError(f"a {what} endpoint must be https (or http on loopback), not {parts.scheme}://")
    return ClientOptions(api_endpoint=endpoint), credentials


def check_endpoints(*endpoints: str | None) -> None:
    """Refuse an endpoint that would send credentials in clear, before anything is read (ValueError)."""
    for endpoint in endpoints:
        client_options(endpoint, AnonymousCredentials(), "Google API")  # type: ignore[no-untyped-call]


class IamRest:
    """The IAM v1 calls over REST: google-auth's AuthorizedSession (ADC), or a plain session to a loopback
    stand-in. Answers are parsed into `google-cloud-iam`'s message types; errors become api_core's
    exceptions (`from_http_response`), so they are retried and described like every other Google call."""

    def __init__(self, endpoint: str | None, credentials: Credentials | None, timeout: float) -> None:
        base = (endpoint or DEFAULT_IAM_ENDPOINT).rstrip("/")
        if "://" not in base:
            base = f"https://{base}"
        parts = urlsplit(base)
        self.timeout = timeout
        self.base = base
        if parts.scheme == "http":
            if not (parts.hostname and is_loopback_host(parts.hostname)):
                raise ValueError("an http:// IAM endpoint must be loopback; use https")
            self.session: requests.Session = requests.Session()
        elif parts.scheme != "https":
            raise ValueError(f"an IAM endpoint must be https (or http on loopback), not {parts.scheme}://")
        else:
            from google.auth import default
            from google.auth.transport.requests import AuthorizedSession

            if credentials is None:
                credentials, _ = default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
            self.session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]

    def _call(self, method: str, path: str, params: dict[str, str] | None = None) -> Any:
        response = self.session.request(method, f"{self.base}/v1/{path}", params=params, timeout=self.timeout,
                                        allow_redirects=False)
        if response.status_code != 200:
            raise gexc.from_http_response(response)  # type: ignore[no-untyped-call]
        return response.text

    def get_role(self, name: str) -> Any:
        role: Any = iam_admin_v1.Role.pb(iam_admin_v1.Role())
        json_format.Parse(self._call("GET", quote(name, safe="/")), role, ignore_unknown_fields=True)
        return role

    def service_account_policy(self, email: str) -> policy_pb2.Policy:
        policy = policy_pb2.Policy()
        text = self._call("POST", f"projects/-/serviceAccounts/{quote(email, safe='@')}:getIamPolicy",
                          {"options.requestedPolicyVersion": str(IAM_POLICY_VERSION)})
        json_format.Parse(text, policy, ignore_unknown_fields=True)
        return policy

    def close(self) -> None:
        self.session.close()


def _grants(target: ResourceRef, policy: policy_pb2.Policy, source: str) -> list[Grant]:
    out = []
    for binding in policy.bindings:
        condition = (Condition(binding.condition.expression, binding.condition.title, binding.condition.description)
                     if binding.HasField("condition") else None)
        out += [Grant(target, binding.role, member, "iam-policy", condition, source=source)
                for member in binding.members]
    return out


@dataclass
class _Read:
    grants: list[Grant] = field(default_factory=list)
    parents: dict[ResourceRef, ResourceRef | None] = field(default_factory=dict)
    project_ids: dict[str, str] = field(default_factory=dict)
    roles: dict[str, RoleDefinition] = field(default_factory=dict)
    unread: dict[ResourceRef, str] = field(default_factory=dict)
    accounts: set[str] = field(default_factory=set)
    errors: list[ScanError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # predefined roles judged from the bundled snapshot
    policies_read: set[ResourceRef] = field(default_factory=set)


@dataclass(frozen=True)
class _Outcome:
    """One call's answer, or why it failed (and the exception, to tell an unreachable API from a refusal)."""

    value: Any = None
    why: str | None = None
    failure: BaseException | None = None


class _Reader:
    """Reads in phases (projects, then each level of folders, then every policy; roles; service accounts),
    each phase's calls `workers` at a time: at organization scale the reads are many and each is one round
    trip. The answers are merged in the calling thread, in a stable order."""

    def __init__(self, *, resource_manager_endpoint: str | None, iam_endpoint: str | None,
                 credentials: Credentials | None, timeout: float, retry_deadline: float, workers: int) -> None:
        options, creds = client_options(resource_manager_endpoint, credentials, "Resource Manager")
        self.projects = resourcemanager_v3.ProjectsClient(transport="rest", credentials=creds, client_options=options)
        self.folders = resourcemanager_v3.FoldersClient(transport="rest", credentials=creds, client_options=options)
        self.organizations = resourcemanager_v3.OrganizationsClient(transport="rest", credentials=creds,
                                                                    client_options=options)
        self.iam = IamRest(iam_endpoint, credentials, timeout)
        self.retry = read_retry(retry_deadline)
        self.timeout = timeout
        self.workers = max(1, workers)
        self.read = _Read()
        self.asked: set[str] = set()  # projects (ID or number) and nodes already asked for
        # Set once the roles API could not be reached at all: each further role would wait out the retry
        # deadline again, so the rest are judged from the snapshot (predefined) or left unknown (custom).
        self.roles_unreachable: str | None = None

    def close(self) -> None:
        for client in (self.projects, self.folders, self.organizations):
            client.transport.close()  # type: ignore[no-untyped-call]
        self.iam.close()

    def _try(self, call: Callable[[], Any]) -> _Outcome:
        try:
            return _Outcome(self.retry(call)())
        except READ_FAILURES as exc:
            return _Outcome(why=describe_failure(exc), failure=exc)

    def _each(self, items: list[_T], call: Callable[[_T], Any]) -> list[tuple[_T, _Outcome]]:
        if len(items) <= 1 or self.workers == 1:
            return [(item, self._try(lambda i=item: call(i))) for item in items]  # type: ignore[misc]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(items)),
                                thread_name_prefix="effective-access") as pool:
            outcomes = list(pool.map(lambda i: self._try(lambda: call(i)), items))
        return list(zip(items, outcomes, strict=True))

    def _error(self, source: str, what: str, why: str) -> None:
        self.read.errors.append(ScanError(source, what, why))

    # -- the hierarchy ------------------------------------------------------------------------

    def chains(self, projects: Iterable[str]) -> None:
        """Read each project (an ID, or a number) and every node above it, with their IAM policies."""
        todo = sorted({p for p in projects if p not in self.asked})
        self.asked.update(todo)
        policies: list[tuple[ResourceRef, str, Callable[..., policy_pb2.Policy]]] = []
        above: set[str] = set()
        for project, got in self._each(todo, lambda p: self.projects.get_project(name=f"projects/{p}",
                                                                                timeout=self.timeout)):
            if got.why is not None:
                self._error("resource-manager", f"projects/{project}", got.why)
                self.read.unread[ResourceRef("project", project)] = f"project not read: {got.why}"
                continue
            project_id = got.value.project_id or project
            self.read.project_ids[got.value.name.split("/", 1)[1]] = project_id
            self.asked.add(project_id)
            ref = ResourceRef("project", project_id)
            self.read.parents[ref] = self._node_ref(got.value.parent)
            policies.append((ref, f"projects/{project_id}", self.projects.get_iam_policy))
            if got.value.parent:
                above.add(got.value.parent)
        while above:
            level = sorted(n for n in above if n not in self.asked and self._node_ref(n) is not None)
            self.asked.update(level)
            above = set()
            for name in (n for n in level if n.startswith("organizations/")):
                ref = ResourceRef("organization", name)
                self.read.parents[ref] = None
                policies.append((ref, name, self.organizations.get_iam_policy))
            folders = [n for n in level if n.startswith("folders/")]
            for name, got in self._each(folders, lambda n: self.folders.get_folder(name=n, timeout=self.timeout)):
                ref = ResourceRef("folder", name)
                if got.why is not None:
                    self._error("resource-manager", name, got.why)
                    self.read.unread[ref] = f"folder not read: {got.why}"
                    continue
                self.read.parents[ref] = self._node_ref(got.value.parent)
                policies.append((ref, name, self.folders.get_iam_policy))
                if got.value.parent:
                    above.add(got.value.parent)
        for (ref, resource, _), got in self._each(policies, self._get_policy):
            self._policy(ref, resource, got)

    @staticmethod
    def _node_ref(name: str) -> ResourceRef | None:
        if name.startswith("folders/"):
            return ResourceRef("folder", name)
        if name.startswith("organizations/"):
            return ResourceRef("organization", name)
        return None

    def _get_policy(self, item: tuple[ResourceRef, str, Callable[..., policy_pb2.Policy]]) -> policy_pb2.Policy:
        _, resource, get = item
        request = iam_policy_pb2.GetIamPolicyRequest(resource=resource)
        request.options.requested_policy_version = IAM_POLICY_VERSION
        return get(request=request, timeout=self.timeout)

    def _policy(self, ref: ResourceRef, resource: str, got: _Outcome) -> None:
        if got.why is not None:
            self._error("resource-manager", f"{resource} IAM policy", got.why)
            self.read.unread[ref] = got.why
            return
        if not got.value.etag:
            # Every real policy carries an etag, even an empty one; without it the body was not a policy.
            self.read.unread[ref] = "the response is not a policy (no etag)"
            self._error("resource-manager", f"{resource} IAM policy",
                        "IAM policy not read: the response is not a policy (no etag)")
            return
        self.read.grants += _grants(ref, got.value, f"resource-manager {ref.kind}s.getIamPolicy")
        self.read.policies_read.add(ref)

    # -- roles and service accounts ------------------------------------------------------------

    def roles(self, grants: Iterable[Grant]) -> None:
        wanted = sorted({str(g.role) for g in grants
                         if not is_unknown(g.role) and not g.role.startswith("acl:") and g.role not in self.read.roles})
        if self.roles_unreachable is None:
            answers = self._each(wanted, self.iam.get_role)
        else:
            answers = [(role, _Outcome(why=f"not asked: the roles API could not be reached ({self.roles_unreachable})"))
                       for role in wanted]
        for role, got in answers:
            if got.why is None:
                self.read.roles[role] = RoleDefinition(
                    role, frozenset(got.value.included_permissions) & RELEVANT_PERMISSIONS, "IAM roles.get",
                    deleted=bool(got.value.deleted))
                continue
            self._error("iam", role, got.why)
            if isinstance(got.failure, requests.RequestException | gexc.RetryError):
                self.roles_unreachable = self.roles_unreachable or got.why
            snapshot = predefined_roles()
            if is_predefined_role(role) and role in snapshot.roles:
                # The read error stays: the scan says it judged this role from a snapshot of its date.
                self.read.roles[role] = RoleDefinition(
                    role, snapshot.roles[role].permissions, f"bundled snapshot of predefined roles ({snapshot.as_of})")
                self.read.notes.append(role)
            else:
                self.read.roles[role] = RoleDefinition(role, UNKNOWN, "IAM roles.get", problem=got.why)

    def holds_access(self, grant: Grant) -> bool:
        """Might this grant give the account access to a repository or bucket? (Unknown roles: yes.)"""
        if is_unknown(grant.role):
            return True
        if grant.role.startswith("acl:"):
            return bool(acl_permissions(grant.shape, grant.role))
        definition = self.read.roles.get(grant.role)
        if definition is None or is_unknown(definition.permissions):
            return True
        return bool(capabilities_of(definition.permissions, "repository")
                    or capabilities_of(definition.permissions, "bucket")
                    or "resourcemanager.projects.setIamPolicy" in definition.permissions
                    or "resourcemanager.folders.setIamPolicy" in definition.permissions
                    or "resourcemanager.organizations.setIamPolicy" in definition.permissions)

    def may_act(self, grant: Grant) -> bool:
        """Might this grant let its member act as a service account? (Unknown roles: yes.)"""
        if is_unknown(grant.role):
            return True
        if grant.role.startswith("acl:"):
            return False
        definition = self.read.roles.get(grant.role)
        return definition is None or is_unknown(definition.permissions) or can_act_as(definition.permissions)

    def actors(self, accounts: Iterable[str]) -> set[str]:
        """The customer-managed service accounts that may act as one of `accounts` (by a grant on the account,
        or on its project or anything above it)."""
        context = AccessContext(project_ids=self.read.project_ids)
        places: set[ResourceRef] = set()
        for email in accounts:
            places.add(ResourceRef("service-account", email))
            home = account_project(email, context)
            node = ResourceRef("project", home) if home is not None else None
            while node is not None and node not in places:
                places.add(node)
                node = self.read.parents.get(node)
        found: set[str] = set()
        for grant in self.read.grants:
            if grant.target not in places or is_unknown(grant.member):
                continue
            principal = parse_member(grant.member)
            if principal.kind == "serviceAccount" and not is_google_managed(principal.value) and self.may_act(grant):
                found.add(principal.value.lower())
        return found

    def accounts(self, emails: list[str]) -> None:
        for email, got in self._each(emails, self.iam.service_account_policy):
            ref = ResourceRef("service-account", email)
            what = f"service account {email} IAM policy"
            if got.why is not None:
                self._error("iam", what, got.why)
                self.read.unread[ref] = got.why
            elif not got.value.etag:
                self.read.unread[ref] = "the response is not a policy (no etag)"
                self._error("iam", what, "IAM policy not read: the response is not a policy (no etag)")
            else:
                self.read.grants += _grants(ref, got.value, "iam serviceAccounts.getIamPolicy")
                self.read.accounts.add(email)


def read_effective_access(state: RegistryState, *, resource_manager_endpoint: str | None = None,
                          iam_endpoint: str | None = None, credentials: Credentials | None = None,
                          timeout: float = 30.0, retry_deadline: float = 60.0, workers: int = 8) -> SourceRead:
    """Everything effective access needs above and around `state`'s repositories and buckets."""
    try:
        reader = _Reader(resource_manager_endpoint=resource_manager_endpoint, iam_endpoint=iam_endpoint,
                         credentials=credentials, timeout=timeout, retry_deadline=retry_deadline, workers=workers)
    except auth_exceptions.DefaultCredentialsError as exc:
        error = ScanError("resource-manager", "effective access", f"nothing read: {describe_failure(exc)}")
        return _result(state, _Read(errors=[error]), failed=True)
    try:
        resources = [*(r.ref for r in state.repositories), *(b.ref for b in state.buckets if b.is_container_registry)]
        reader.chains(p for r in resources if (p := project_of(r)) is not None)
        reader.roles([*state.grants, *reader.read.grants])
        todo = {parse_member(str(g.member)).value.lower() for g in (*state.grants, *reader.read.grants)
                if not is_unknown(g.member) and g.target.kind != "service-account"
                and parse_member(g.member).kind == "serviceAccount" and reader.holds_access(g)
                and not is_google_managed(parse_member(g.member).value)}
        done: set[str] = set()
        for _ in range(MAX_HOPS):  # the accounts that hold access, then who may act as them, and so on
            wanted = sorted(todo - done)
            if not wanted:
                break
            reader.accounts(wanted)
            context = AccessContext(project_ids=reader.read.project_ids)
            reader.chains(home for email in wanted if (home := account_project(email, context)) is not None)
            reader.roles(reader.read.grants)
            done.update(wanted)
            todo = reader.actors(done)
    finally:
        reader.close()
    return _result(state, reader.read)


def _result(state: RegistryState, read: _Read, failed: bool = False) -> SourceRead:
    context = AccessContext(parents=dict(read.parents), project_ids=dict(read.project_ids), roles=dict(read.roles),
                            unread=dict(read.unread), accounts_read=frozenset(read.accounts), basis=BASIS)
    target: dict[str, Any] = {"backend": "local", "basis": BASIS, "policies_read": len(read.policies_read),
              "roles_read": len(read.roles), "service_accounts_read": len(read.accounts)}
    if read.notes:
        snapshot = predefined_roles()
        target["notes"] = [f"the IAM roles API did not answer for {len(set(read.notes))} predefined role(s): their "
                           f"permissions come from the bundled snapshot of predefined roles of {snapshot.as_of} "
                           f"({', '.join(sorted(set(read.notes)))})"]
    unread = frozenset() if not failed else frozenset({"effective access"})
    # The policies read are not added to `iam_complete_targets`: drift compares a stack's declarations with
    # whole policies only for repositories and buckets (project IAM members are not the stack's alone).
    return SourceRead(RegistryState(grants=tuple(read.grants), access=context),
                      tuple(read.errors), unread, ReportTarget("effective_access", target, listed=False))
