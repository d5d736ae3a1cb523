"""Effective access: for every repository and Container Registry bucket, what each principal can do there
(pull, push new versions, move or overwrite tags, delete versions, change IAM), and by which paths.

Pure: it reads a `RegistryState` whose `access` context a source filled (the grants of the repository or
bucket, its project and every folder and the organization above, the roles' permissions, the service accounts'
IAM policies), and never the network.

How Google Cloud resolves it, and so how it is computed here:

* A grant on a project, folder or organization is a grant on everything below it
  (https://cloud.google.com/iam/docs/resource-hierarchy-access-control); a role is its permissions
  (`capabilities`). Setting the IAM policy of anything above is changing IAM here.
* Impersonation (https://cloud.google.com/iam/docs/service-account-impersonation): whoever may act as a
  service account (on the account itself, or on its project, folder or organization) gets what the account can
  do, and so on along a chain of accounts, up to `MAX_HOPS` of them (a longer chain is "could not judge").
  Google-managed service agents cannot be acted as by customers and are not followed.
* An IAM condition is kept on the path and shown; it never removes a path (a condition limits when, not who).
* Fail closed: a policy above a resource that could not be read, an ancestry that is not known, a role whose
  permissions are not known, or a service account whose IAM policy could not be read leaves what depends on it
  `NotJudged`, never "no access".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Final

from .access_model import MAX_HOPS, Access, AccessContext, AccessPath, EffectiveAccess, Hop, NotJudged
from .capabilities import (
    ANCESTOR_SET_IAM,
    CAPABILITIES,
    Capability,
    ResourceKind,
    acl_permissions,
    can_act_as,
    capabilities_of,
)
from .container_registry import container_registry_of_bucket
from .model import Grant, RegistryState, ResourceRef, is_unknown
from .principals import parse_member

_MAX_ANCESTRY: Final = 32  # folders nest at most 10 deep under an organization; a loop is not an ancestry
# Service accounts by who manages them (https://cloud.google.com/iam/docs/service-account-types): a customer's
# ACCOUNT@PROJECT.iam.gserviceaccount.com, the Compute Engine default NUMBER-compute@developer.gserviceaccount.com
# and App Engine's PROJECT@appspot.gserviceaccount.com can be acted as through IAM; service agents
# (service-NUMBER@…, …@gcp-sa-*.iam.gserviceaccount.com) and Google's other accounts (NUMBER@cloudservices…)
# are Google-managed and cannot be.
_CUSTOMER_ACCOUNT: Final = re.compile(r"^(?!service-[0-9]+@)[^@]+@(?!gcp-sa-)(?P<project>[a-z0-9-]+)"
                                      r"\.iam\.gserviceaccount\.com$")
_APPSPOT_DEFAULT: Final = re.compile(r"^(?P<project>[a-z0-9-]+)@appspot\.gserviceaccount\.com$")
_COMPUTE_DEFAULT: Final = re.compile(r"^(?P<number>[0-9]+)-compute@developer\.gserviceaccount\.com$")
_GOOGLE_MANAGED: Final = re.compile(r"^(?:service-[0-9]+@[a-z0-9-]+\.iam\.gserviceaccount\.com"
                                    r"|[^@]+@gcp-sa-[a-z0-9-]+\.iam\.gserviceaccount\.com"
                                    r"|[^@]+@(?!developer\.|appspot\.)[a-z0-9-]+\.gserviceaccount\.com)$")


def project_of(resource: ResourceRef) -> str | None:
    """The project ID a repository or Container Registry bucket is in (None when its name does not say)."""
    if resource.kind == "repository" and resource.name.startswith("projects/"):
        return resource.name.split("/")[1]
    if resource.kind == "bucket":
        bucket = container_registry_of_bucket(resource.name)
        return bucket.project if bucket is not None else None
    return None


def account_project(email: str, context: AccessContext) -> str | None:
    """The project ID a customer-managed service account lives in; None when the email does not say."""
    email = email.lower()
    if match := _COMPUTE_DEFAULT.match(email):
        return context.project_ids.get(match["number"], match["number"])
    if match := _CUSTOMER_ACCOUNT.match(email) or _APPSPOT_DEFAULT.match(email):
        return match["project"]
    return None


def is_google_managed(email: str) -> bool:
    return bool(_GOOGLE_MANAGED.match(email.lower()))


class _Computation:
    def __init__(self, state: RegistryState, context: AccessContext) -> None:
        self.state = state
        self.context = context
        self.by_target: dict[ResourceRef, list[Grant]] = defaultdict(list)
        for grant in state.grants:
            self.by_target[grant.target].append(grant)
        self.not_judged: list[NotJudged] = []

    # -- where grants reach -------------------------------------------------------------------

    def chain(self, project: str) -> tuple[list[ResourceRef], str | None]:
        """The project and every node above it, nearest first, and why that is not all of it (or None)."""
        nodes: list[ResourceRef] = []
        current: ResourceRef | None = ResourceRef("project", project)
        while current is not None:
            if current in nodes or len(nodes) >= _MAX_ANCESTRY:
                return nodes, f"the ancestry of project {project} loops"
            nodes.append(current)
            if current not in self.context.parents:
                if current.kind == "organization":
                    break
                return nodes, f"what is above {current.kind} {current.name} could not be read"
            current = self.context.parents[current]
        return nodes, None

    def unread_on(self, nodes: Iterable[ResourceRef]) -> Iterator[str]:
        for node in nodes:
            if node in self.context.unread:
                yield f"the IAM policy of {node.kind} {node.name} could not be read ({self.context.unread[node]})"

    def permissions(self, grant: Grant) -> frozenset[str] | str:
        """The grant's permissions, or why they are not known."""
        role = grant.role
        if is_unknown(role):
            return "the role is not known"
        if role.startswith("acl:"):
            found = acl_permissions(grant.shape, role)
            return found if found is not None else f"ACL entry {role} is not one Cloud Storage defines"
        definition = self.context.roles.get(role)
        if definition is None:
            return f"role {role} was not read"
        if is_unknown(definition.permissions):
            return f"role {role} could not be read ({definition.problem or 'no reason given'})"
        return definition.permissions

    def capabilities(self, grant: Grant, kind: ResourceKind) -> tuple[Capability, ...] | str:
        permissions = self.permissions(grant)
        if isinstance(permissions, str):
            return permissions
        found = set(capabilities_of(permissions, kind))
        above = ANCESTOR_SET_IAM.get(grant.target.kind)
        if above is not None and above in permissions:
            found.add("change-iam")  # may grant itself any role on everything below
        return tuple(c for c in CAPABILITIES if c in found)

    # -- one resource -------------------------------------------------------------------------

    def direct(self, resource: ResourceRef) -> dict[tuple[str, Capability], list[AccessPath]]:
        """member, capability -> paths, from the grants on the resource and above it."""
        kind: ResourceKind = "repository" if resource.kind == "repository" else "bucket"
        found: dict[tuple[str, Capability], list[AccessPath]] = defaultdict(list)
        targets = [resource]
        project = project_of(resource)
        if project is None:
            self.not_judged.append(NotJudged(resource, "the project it is in cannot be told from its name",
                                             CAPABILITIES))
        else:
            nodes, problem = self.chain(project)
            targets += nodes
            problems = [*([problem] if problem else []), *self.unread_on(nodes)]
            for why in problems:
                self.not_judged.append(NotJudged(resource, why, CAPABILITIES))
        for target in targets:
            for grant in self.by_target.get(target, ()):
                if is_unknown(grant.member):
                    self.not_judged.append(NotJudged(resource, f"a member on {target} is not known", CAPABILITIES))
                    continue
                capabilities = self.capabilities(grant, kind)
                if isinstance(capabilities, str):
                    self.not_judged.append(NotJudged(resource, capabilities, CAPABILITIES, grant.member))
                    continue
                for capability in capabilities:
                    found[(grant.member, capability)].append(
                        AccessPath(target, str(grant.role), grant.shape, grant.condition, source=grant.source))
        return found

    def acting(self, email: str, resource: ResourceRef) -> list[tuple[str, Hop]] | str:
        """Who may act as `email` (member, hop), or why that cannot be told."""
        email = email.lower()
        account = ResourceRef("service-account", email)
        if account in self.context.unread:
            return f"the IAM policy of service account {email} could not be read ({self.context.unread[account]})"
        if email not in self.context.accounts_read:
            return f"the IAM policy of service account {email} was not read"
        project = account_project(email, self.context)
        if project is None:
            return f"the project of service account {email} cannot be told from its email"
        targets = [account]
        nodes, problem = self.chain(project)
        unread = list(self.unread_on(nodes))
        if problem or unread:
            return f"who may act as {email} cannot be told: {(problem or unread[0])}"
        targets += nodes
        out = []
        for target in targets:
            for grant in self.by_target.get(target, ()):
                if is_unknown(grant.member) or is_unknown(grant.role):
                    return f"a member or role on {target} is not known"
                permissions = self.permissions(grant)
                if isinstance(permissions, str):
                    return permissions
                if can_act_as(permissions):
                    out.append((grant.member, Hop(email, grant.role, target, grant.condition)))
        return out

    def resource(self, resource: ResourceRef) -> Iterator[Access]:
        paths = self.direct(resource)
        follow_impersonation(resource, paths, lambda email: self.acting(email, resource), self.not_judged)
        for (member, capability), found in sorted(paths.items(),
                                                  key=lambda kv: (kv[0][0], CAPABILITIES.index(kv[0][1]))):
            yield Access(resource, member, capability, tuple(found))


def follow_impersonation(resource: ResourceRef, paths: dict[tuple[str, Capability], list[AccessPath]],
                         acting: Callable[[str], list[tuple[str, Hop]] | str], gap: list[NotJudged]) -> None:
    """Add to `paths` (member, capability -> paths) whoever may act as a customer-managed service account with
    a path, then whoever may act as those, up to chains of `MAX_HOPS` accounts. `acting(email)` says who may
    act as an account (member and hop), or why that cannot be told. A loop adds nothing (the account already
    has what it would reach); an account whose actors cannot be told, or one reached at the end of a chain of
    `MAX_HOPS`, leaves the capabilities at stake NotJudged."""
    frontier: dict[tuple[str, Capability], list[AccessPath]] = {k: list(v) for k, v in paths.items()}
    for depth in range(MAX_HOPS + 1):
        held: dict[str, list[tuple[Capability, AccessPath]]] = defaultdict(list)
        for (member, capability), found in frontier.items():
            principal = parse_member(member)
            if principal.kind == "serviceAccount" and not is_google_managed(principal.value):
                held[principal.value.lower()] += [(capability, path) for path in found]
        frontier = defaultdict(list)
        for email, holds in sorted(held.items()):
            at_stake = tuple(sorted({c for c, _ in holds}, key=CAPABILITIES.index))
            actors = acting(email) if depth < MAX_HOPS else (
                f"who may act as service account {email} is not followed: it acts through a chain of {MAX_HOPS} "
                "service accounts already, the longest followed")
            if isinstance(actors, str):
                gap.append(NotJudged(resource, actors, at_stake))
                continue
            for member, hop in actors:
                principal = parse_member(member)
                for capability, path in holds:
                    if principal.kind == "serviceAccount" and principal.value.lower() in {
                            email, *(h.account.lower() for h in path.hops)}:
                        continue  # acting as itself, or a loop: nothing the account does not already have
                    found = paths.setdefault((member, capability), [])
                    new = path.acted_as(hop)
                    if new not in found:
                        found.append(new)
                        frontier[(member, capability)].append(new)


def registry_resources(state: RegistryState) -> tuple[ResourceRef, ...]:
    """The repositories and Container Registry buckets whose effective access is computed."""
    return (*sorted(r.ref for r in state.repositories),
            *sorted(b.ref for b in state.buckets if b.is_container_registry))


def compute(state: RegistryState, context: AccessContext) -> EffectiveAccess:
    computation = _Computation(state, context)
    resources = registry_resources(state)
    accesses = tuple(access for resource in resources for access in computation.resource(resource))
    seen: set[NotJudged] = set()
    not_judged = tuple(n for n in computation.not_judged if not (n in seen or seen.add(n)))  # type: ignore[func-returns-value]
    return EffectiveAccess(resources, accesses, not_judged, "local", context.basis)


_LAST: list[tuple[RegistryState, EffectiveAccess | None]] = []


def effective_access(state: RegistryState) -> EffectiveAccess | None:
    """The state's effective access: given (Policy Analyzer), or computed from its access context; None when
    the scan read neither (only the repositories' and buckets' own IAM). The last answer is kept, so the rules
    that each ask for it compute it once per state."""
    if state.effective is not None:
        return state.effective
    if state.access is None:
        return None
    if _LAST and _LAST[0][0] is state:
        return _LAST[0][1]
    result = compute(state, state.access)
    _LAST[:] = [(state, result)]
    return result
