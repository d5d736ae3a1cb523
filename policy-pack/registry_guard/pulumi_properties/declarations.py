"""The IAM resources of a whole stack as declarations, for the rules that judge them together."""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..catalogue.model import (
    UNKNOWN_NAME,
    Bucket,
    Grant,
    IamDeclaration,
    Image,
    LegacyRegistry,
    RegistryState,
    Repository,
    ResourceRef,
    Subject,
    TargetKind,
    Unjudged,
    is_unknown,
)
from .adapt import adapt
from .iam import iam_target
from .reader import PropertyReader, show
from .targets import container_registry_bucket, repository_name
from .types import AR_REPOSITORY, BUCKET, CONTAINER_REGISTRY, IAM_TYPES


@dataclass(frozen=True)
class StackResource:
    """What a whole-stack rule needs of a resource: from a pulumi_policy PolicyResource or a stack export."""

    resource_type: str
    props: Any
    urn: str
    name: str
    # property name -> the resources that property was computed from
    property_dependencies: Mapping[str, Sequence[StackResource]] = field(default_factory=dict)


def _dependency_target(kind: TargetKind, deps: Sequence[StackResource], default_project: str | None) -> str | None:
    """Name the target after the resource it was computed from, so `bucket=registry.id` and
    `bucket="artifacts.p.appspot.com"` still meet when the referenced resource says its name."""
    if len(deps) != 1:
        return None
    dep = deps[0]
    reader = PropertyReader()
    if kind == "repository" and dep.resource_type == AR_REPOSITORY:
        repo_id = reader.read(dep.props, "repositoryId", ".repositoryId") or dep.name
        name = repository_name(
            repo_id,
            reader.read(dep.props, "location", ".location"),
            reader.read(dep.props, "project", ".project") or default_project,
        )
    elif kind == "bucket" and dep.resource_type == BUCKET:
        name = show(reader.read(dep.props, "name", ".name"))
    elif kind == "bucket" and dep.resource_type == CONTAINER_REGISTRY:
        name = show(container_registry_bucket(
            reader.read(dep.props, "location", ".location"),
            reader.read(dep.props, "project", ".project") or default_project or "(provider default)",
        ))
    else:
        name = UNKNOWN_NAME
    if UNKNOWN_NAME in name:
        return f"resource {dep.urn}"
    return name


def iam_declaration(resource: StackResource, default_project: str | None = None) -> IamDeclaration | Unjudged | None:
    """The IAM declaration a resource makes; Unjudged when its target or role cannot be told yet."""
    if resource.resource_type not in IAM_TYPES:
        return None
    kind, key, shape = IAM_TYPES[resource.resource_type]
    reader = PropertyReader()
    target = iam_target(resource.resource_type, resource.props, default_project, reader)
    if UNKNOWN_NAME in target.name:
        named = _dependency_target(kind, resource.property_dependencies.get(key, ()), default_project)
        if named is None:
            return Unjudged(Subject.IAM_DECLARATION, resource.urn,
                            f"the {kind} that {resource.name} manages (.{key}) is not known yet")
        target = ResourceRef(kind, named)
    role: str | None = None
    condition = ""
    members: tuple[str, ...] = ()
    if shape != "iam-policy":
        value = reader.text(resource.props, "role", ".role")
        if value is None or is_unknown(value):
            return Unjudged(Subject.IAM_DECLARATION, resource.urn, f"the role of {resource.name} is not known yet")
        role = value
        cond = reader.mapping(resource.props, "condition", ".condition")
        if is_unknown(cond):
            return Unjudged(Subject.IAM_DECLARATION, resource.urn,
                            f"the IAM condition of {resource.name} is not known yet")
        if cond is not None:
            # The provider keys a binding by role and condition (title, expression and description).
            parts = (reader.text(cond, k, f".condition.{k}") for k in ("title", "expression", "description"))
            condition = " | ".join(show(p, "") for p in parts)
        key = "member" if shape == "iam-member" else "members"
        listed = reader.items(resource.props, key, f".{key}")
        members = () if listed is None or is_unknown(listed) else tuple(show(m) for m in listed)
    return IamDeclaration(target, shape, role, resource.urn, condition, members)


def stack_state(
    resources: Iterable[StackResource], default_project: str | None = None, types: Container[str] | None = None
) -> RegistryState:
    """The whole stack as one state: every resource (of `types`, when given) adapted as the pack adapts it
    alone, plus every IAM declaration, and what could not be told about any of them."""
    repositories: list[Repository] = []
    buckets: list[Bucket] = []
    registries: list[LegacyRegistry] = []
    grants: list[Grant] = []
    images: list[Image] = []
    unjudged: list[Unjudged] = []
    declarations: list[IamDeclaration] = []
    for resource in resources:
        wanted = types is None or resource.resource_type in types
        adapted = adapt(resource.resource_type, resource.props, resource.urn, resource.name, default_project) \
            if wanted else None
        if adapted is not None:
            state = adapted.state
            repositories += state.repositories
            buckets += state.buckets
            registries += state.legacy_registries
            grants += state.grants
            images += state.images
            unjudged += state.unjudged
        declaration = iam_declaration(resource, default_project)
        if isinstance(declaration, IamDeclaration):
            declarations.append(declaration)
        elif declaration is not None:
            unjudged.append(declaration)
    return RegistryState(
        repositories=tuple(repositories), buckets=tuple(buckets), legacy_registries=tuple(registries),
        grants=tuple(grants), images=tuple(images), unjudged=tuple(unjudged), iam_declarations=tuple(declarations),
    )
