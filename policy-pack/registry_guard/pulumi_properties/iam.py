"""IAM member, binding and policy resources (repository, bucket, project) as grants."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..catalogue.model import (
    UNKNOWN,
    Condition,
    Grant,
    RegistryState,
    ResourceRef,
    Subject,
    Unjudged,
    Unknown,
    is_unknown,
)
from .reader import SENTINELS, PropertyReader, show
from .targets import repository_name
from .types import IAM_TYPES


def iam_target(
    resource_type: str, props: Any, default_project: str | None, reader: PropertyReader | None = None
) -> ResourceRef:
    """The repository, bucket or project an IAM resource manages."""
    reader = reader or PropertyReader()
    kind, key, _ = IAM_TYPES[resource_type]
    if kind == "repository":
        name = repository_name(
            reader.read(props, "repository", ".repository"),
            reader.read(props, "location", ".location"),
            reader.read(props, "project", ".project") or default_project,
        )
    elif kind == "project":  # the provider accepts, and may read back, `projects/ID` as well as the id
        name = show(reader.read(props, "project", ".project") or default_project).removeprefix("projects/")
    else:
        name = _full_name(kind, show(reader.read(props, key, f".{key}")))
    return ResourceRef(kind, name)


def _full_name(kind: str, name: str) -> str:
    """One spelling per target: `folders/ID`, `organizations/ID`, a service account's email, a bucket's name
    (the provider reads IAM back with `b/<name>`)."""
    if kind == "folder" and name.isdigit():
        return f"folders/{name}"
    if kind == "organization" and name.isdigit():
        return f"organizations/{name}"
    if kind == "service-account":
        # projects/{project}/serviceAccounts/{email}, or the email alone
        email = name.rsplit("/serviceAccounts/", 1)[-1]
        return email.lower() if "@" in email else name
    if kind == "bucket" and name.startswith("b/"):
        return name[2:]
    return name


def _condition(reader: PropertyReader, props: Any) -> Condition | None:
    cond = reader.read(props, "condition", ".condition")
    if cond is None:
        return None
    if is_unknown(cond) or not isinstance(cond, Mapping):
        return Condition(expression=show(UNKNOWN))
    return Condition(
        expression=show(reader.text(cond, "expression", ".condition.expression"), ""),
        title=show(reader.text(cond, "title", ".condition.title"), ""),
        description=show(reader.text(cond, "description", ".condition.description"), ""),
    )


def _policy_data(reader: PropertyReader, props: Any, target: ResourceRef, source: str) -> RegistryState:
    """The grants of an authoritative policy document. One that is missing or not a policy document can
    hide any member, so it fails closed for every grant rule."""
    raw = reader.read(props, "policyData", ".policyData")
    if is_unknown(raw):
        return RegistryState(grants=(Grant(target, UNKNOWN, UNKNOWN, "iam-policy", source=source),))
    if raw is None:
        reason = (f"{source or target.name}: policyData is missing, so the "
                  "authoritative IAM policy cannot be checked")
        return RegistryState(unjudged=(Unjudged(Subject.GRANT, str(target), reason, True, {"policyData": None}),))
    try:
        document = json.loads(raw) if isinstance(raw, str) else raw
        bindings = document.get("bindings") or []
        if not isinstance(bindings, list):
            raise ValueError("bindings is not a list")
    except (ValueError, AttributeError, RecursionError) as exc:  # RecursionError: nested past any policy
        reason = (f"policyData of {target.name} is not a valid IAM policy JSON document ({exc}); "
                  "no member in it can be checked")
        return RegistryState(unjudged=(
            Unjudged(Subject.GRANT, str(target), reason, True, {"policyData": str(raw)[:200]}),))
    grants: list[Grant] = []
    for binding in bindings:
        if not isinstance(binding, Mapping):
            continue
        role = binding.get("role")
        role_value: str | Unknown = UNKNOWN if not isinstance(role, str) or role in SENTINELS else role
        cond = binding.get("condition")
        condition = (
            Condition(str(cond.get("expression", "")), str(cond.get("title", "")), str(cond.get("description", "")))
            if isinstance(cond, Mapping)
            else None
        )
        for member in binding.get("members") or []:
            member_value: str | Unknown = UNKNOWN if not isinstance(member, str) or member in SENTINELS else member
            grants.append(Grant(target, role_value, member_value, "iam-policy", condition, source))
    return RegistryState(grants=tuple(grants))


def adapt_iam(
    resource_type: str, props: Any, urn: str, default_project: str | None, reader: PropertyReader
) -> RegistryState:
    target = iam_target(resource_type, props, default_project, reader)
    _, _, shape = IAM_TYPES[resource_type]
    if shape == "iam-policy":
        return _policy_data(reader, props, target, urn)
    role = reader.text(props, "role", ".role")
    role_value: str | Unknown = UNKNOWN if role is None else role
    condition = _condition(reader, props)
    key = "member" if shape == "iam-member" else "members"
    members = reader.items(props, key, f".{key}")
    if is_unknown(members):
        members = [UNKNOWN]
    grants = []
    for member in members or []:
        member_value: str | Unknown = UNKNOWN if member is None or is_unknown(member) else str(member)
        grants.append(Grant(target, role_value, member_value, shape, condition, urn))
    return RegistryState(grants=tuple(grants))
