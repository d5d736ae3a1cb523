"""Effective access in the model: what it is computed from (`AccessContext`, besides the grants) and what it
is (`EffectiveAccess`: for each repository or bucket, each principal's capabilities, each with its paths).

Why a record of its own: the grants alone do not say what a role allows (custom roles), what lies above a
project (folders, the organization), or what could not be read. A source fills `AccessContext`; the catalogue's
`effective_access` computes `EffectiveAccess` from it, or a source that asks Google's Policy Analyzer fills
`EffectiveAccess` directly; the rules and the reports read only `EffectiveAccess`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final

from .capabilities import Capability
from .model import Condition, GrantShape, ResourceRef, Unknown

# What neither backend follows, said with every access matrix so that it claims no more than was computed:
# a group is a principal of its own, and deny policies and principal access boundaries can only take access
# away (so what they remove is still shown).
NOT_FOLLOWED: Final = ("Not followed: group members (a group is shown as the group), deny policies and principal "
                       "access boundaries (access they remove is still shown).")
# Chains of service accounts are followed this many hops; a longer one is "could not judge", never cut silently.
MAX_HOPS: Final = 4


@dataclass(frozen=True)
class RoleDefinition:
    """A role's permissions (only those the capabilities read), as the scan learnt them. `permissions` is
    UNKNOWN when the role could not be read (then `problem` says why); `source` says where they came from
    (the IAM roles API, or the bundled snapshot of predefined roles and its date)."""

    name: str
    permissions: frozenset[str] | Unknown
    source: str
    deleted: bool = False  # a deleted custom role: its grants come back if it is undeleted within 7 days
    problem: str | None = None


@dataclass(frozen=True)
class AccessContext:
    """What effective access needs besides the grants (which are in `RegistryState.grants`, on repositories,
    buckets, projects, folders, organizations and service accounts alike).

    * `parents`: each project, folder and organization read, and what is directly above it (absent for an
      organization, or a project or folder with no organization);
    * `project_ids`: project numbers to IDs (a default service account is named by its project's number);
    * `roles`: each role the grants name, with its permissions;
    * `unread`: each policy (a project, folder, organization or service account, as a ResourceRef) that could
      not be read, and why: what depends on it cannot be judged;
    * `accounts_read`: the service accounts whose IAM policy was read (lower-case emails);
    * `basis`: what was read, for a report ("project, folder and organization IAM through Resource Manager").
    """

    parents: Mapping[ResourceRef, ResourceRef | None] = field(default_factory=dict)
    project_ids: Mapping[str, str] = field(default_factory=dict)
    roles: Mapping[str, RoleDefinition] = field(default_factory=dict)
    unread: Mapping[ResourceRef, str] = field(default_factory=dict)
    accounts_read: frozenset[str] = frozenset()
    basis: str = ""


@dataclass(frozen=True)
class Hop:
    """Acting as a service account: who may (the acting grant's role, where it is, its condition)."""

    account: str  # the service account's email
    role: str
    target: ResourceRef  # the service account itself, or the project, folder or organization above it
    condition: Condition | None = None


@dataclass(frozen=True)
class AccessPath:
    """How a principal gets a capability: the grant (where, which role, through what shape, under what
    condition), and, for an impersonation path, the hops: `through`, the principal acting as a service
    account, then (`then`) that account acting as another, and so on, to the account that holds the grant."""

    target: ResourceRef  # where the grant is: the repository or bucket, or a project, folder or organization
    role: str
    shape: GrantShape = "iam-policy"
    condition: Condition | None = None
    through: Hop | None = None
    source: str = ""
    then: tuple[Hop, ...] = ()

    @property
    def inherited(self) -> bool:
        return self.target.kind in ("project", "folder", "organization")

    @property
    def hops(self) -> tuple[Hop, ...]:
        """The accounts acted as, from the principal's to the one that holds the grant."""
        return (self.through, *self.then) if self.through is not None else ()

    @property
    def conditional(self) -> bool:
        return self.condition is not None or any(hop.condition is not None for hop in self.hops)

    def acted_as(self, hop: Hop) -> AccessPath:
        """This path for whoever may act (by `hop`) as the account that follows it."""
        return replace(self, through=hop, then=self.hops)

    def describe(self) -> str:
        """e.g. "roles/editor on folder folders/12", "acting as ci@p.iam.gserviceaccount.com (roles/iam.service
        AccountTokenCreator on project p), which holds roles/artifactregistry.writer on the repository"."""
        grant = f"{self.role} on {_where(self.target)}"
        if self.condition is not None:
            grant += f" if {self.condition.title or self.condition.expression}"
        if self.through is None:
            return grant
        acting = [f"as {hop.account} ({_hop_text(hop)})" for hop in self.hops]
        return f"acting {', which may act '.join(acting)}, which holds {grant}"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"where": self.target.kind, "target": self.target.name, "role": self.role,
                                  "shape": self.shape}
        if self.condition is not None:
            out["condition"] = _condition_json(self.condition)
        if self.through is not None:
            out["through"] = _hop_json(self.through)
        if self.then:
            out["then"] = [_hop_json(hop) for hop in self.then]
        return out


def _hop_text(hop: Hop) -> str:
    text = f"{hop.role} on {_where(hop.target)}"
    return text + (f" if {hop.condition.title or hop.condition.expression}" if hop.condition is not None else "")


def _hop_json(hop: Hop) -> dict[str, object]:
    out: dict[str, object] = {"service_account": hop.account, "role": hop.role, "where": hop.target.kind,
                              "target": hop.target.name}
    if hop.condition is not None:
        out["condition"] = _condition_json(hop.condition)
    return out


def _where(ref: ResourceRef) -> str:
    if ref.kind == "repository":
        return "the repository"
    if ref.kind == "bucket":
        return "the bucket"
    if ref.kind == "service-account":
        return f"service account {ref.name}"
    return f"{ref.kind} {ref.name}"


def _condition_json(condition: Condition) -> dict[str, str]:
    out = {"expression": condition.expression}
    if condition.title:
        out["title"] = condition.title
    return out


@dataclass(frozen=True)
class Access:
    """One principal (as granted) can do one thing to one repository or bucket, by each of `paths`."""

    resource: ResourceRef
    member: str
    capability: Capability
    paths: tuple[AccessPath, ...]


@dataclass(frozen=True)
class NotJudged:
    """What could not be judged on `resource`: `capabilities` for `member` (None: for anyone), and why."""

    resource: ResourceRef
    reason: str
    capabilities: tuple[Capability, ...] = ()
    member: str | None = None


@dataclass(frozen=True)
class EffectiveAccess:
    """Every capability every principal has on each repository and bucket judged, and what could not be
    judged. `resources` are the repositories and buckets it covers; `backend` says how it was computed."""

    resources: tuple[ResourceRef, ...]
    accesses: tuple[Access, ...] = ()
    not_judged: tuple[NotJudged, ...] = ()
    backend: str = "local"
    basis: str = ""
