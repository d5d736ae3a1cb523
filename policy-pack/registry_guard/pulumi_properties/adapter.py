"""Pulumi resource properties (engine wire names, camelCase) -> a partial `registry_guard.catalogue` RegistryState.

Why an adapter and not rules: the same catalogue judges the live registry at night, so the pack only
translates shapes. Every field is read through `_read`, which turns a preview-time unknown (whether
`pulumi_policy`'s proxy raises `UnknownValueError` or a plain dict carries the sentinel string) into
`model.UNKNOWN` for that field alone: a rule that needs the field becomes undetermined, every other rule
still judges the resource.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

from registry_guard.catalogue.container_registry import (
    ContainerRegistryBucket,
    container_registry_bucket_name,
    container_registry_host,
    container_registry_of_bucket,
)
from registry_guard.catalogue.findings import Finding, Undetermined
from registry_guard.catalogue.model import (
    UNKNOWN,
    Bucket,
    CleanupCondition,
    CleanupPolicy,
    Condition,
    Grant,
    GrantShape,
    IamDeclaration,
    Image,
    LegacyRegistry,
    MostRecentVersions,
    RegistryState,
    Repository,
    ResourceRef,
    TargetKind,
    Unknown,
    is_unknown,
)
from registry_guard.catalogue.principals import acl_entity_to_member

SENTINELS: Final = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)

# Rules that judge grants: a malformed or unknown IAM shape concerns all of them.
GRANT_RULES: Final = ("no-public-access", "no-broad-admin", "no-personal-writers")
UNKNOWN_NAME: Final = "[unknown until apply]"

# --- type tokens (pulumi-gcp 10.2.0, pulumi-docker, pulumi-docker-build) ---------------------------------
AR_REPOSITORY = "gcp:artifactregistry/repository:Repository"
AR_IAM_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
AR_IAM_BINDING = "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding"
AR_IAM_POLICY = "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy"
BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
BUCKET_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
BUCKET_IAM_POLICY = "gcp:storage/bucketIAMPolicy:BucketIAMPolicy"
BUCKET_ACCESS_CONTROL = "gcp:storage/bucketAccessControl:BucketAccessControl"
DEFAULT_OBJECT_ACCESS_CONTROL = "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl"
BUCKET_ACL = "gcp:storage/bucketACL:BucketACL"
DEFAULT_OBJECT_ACL = "gcp:storage/defaultObjectACL:DefaultObjectACL"
# Note the lowercase `iAM`: that is how pulumi-gcp spells the project IAM modules.
PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_IAM_BINDING = "gcp:projects/iAMBinding:IAMBinding"
PROJECT_IAM_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
CONTAINER_REGISTRY = "gcp:container/registry:Registry"
DOCKER_IMAGE = "docker:index/image:Image"
DOCKER_BUILD_IMAGE = "docker-build:index:Image"

# type token -> (target kind, the property naming the target, grant shape)
IAM_TYPES: Final[dict[str, tuple[TargetKind, str, GrantShape]]] = {
    AR_IAM_MEMBER: ("repository", "repository", "iam-member"),
    AR_IAM_BINDING: ("repository", "repository", "iam-binding"),
    AR_IAM_POLICY: ("repository", "repository", "iam-policy"),
    BUCKET_IAM_MEMBER: ("bucket", "bucket", "iam-member"),
    BUCKET_IAM_BINDING: ("bucket", "bucket", "iam-binding"),
    BUCKET_IAM_POLICY: ("bucket", "bucket", "iam-policy"),
    PROJECT_IAM_MEMBER: ("project", "project", "iam-member"),
    PROJECT_IAM_BINDING: ("project", "project", "iam-binding"),
    PROJECT_IAM_POLICY: ("project", "project", "iam-policy"),
}
ACL_TYPES: Final = (BUCKET_ACCESS_CONTROL, DEFAULT_OBJECT_ACCESS_CONTROL, BUCKET_ACL, DEFAULT_OBJECT_ACL)
REPOSITORY_TYPES: Final = (AR_REPOSITORY,)
BUCKET_TYPES: Final = (BUCKET,)
IMAGE_TYPES: Final = (DOCKER_IMAGE, DOCKER_BUILD_IMAGE)

# Predefined ACLs -> the (role, entity) entries they expand to that matter here (public ones; the
# project-team entries they also add follow project IAM, judged there).
_PREDEFINED_ACL: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "publicread": (("READER", "allUsers"),),
    "publicreadwrite": (("READER", "allUsers"), ("WRITER", "allUsers")),
    "authenticatedread": (("READER", "allAuthenticatedUsers"),),
    "private": (),
    "projectprivate": (),
    "bucketownerread": (),
    "bucketownerfullcontrol": (),
}

_AR_HOST = re.compile(r"^(?P<location>[a-z0-9-]+)-docker\.pkg\.dev$")
_GCR_HOST = re.compile(r"^([a-z]+\.)?gcr\.io$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


@dataclass(frozen=True)
class Adapted:
    """One resource as the catalogue sees it.

    `problems` are violations the adapter itself can prove (e.g. a policyData that is not JSON: it can
    hide any member, so it fails closed). `undetermined` covers what the model cannot carry as UNKNOWN
    (an image whose tags are unknown). `unknown_paths` names every property read as unknown, so an
    undetermined verdict can say exactly what was missing.
    """

    state: RegistryState = field(default_factory=RegistryState)
    problems: tuple[Finding, ...] = ()
    undetermined: tuple[Undetermined, ...] = ()
    unknown_paths: tuple[str, ...] = ()


class _Reader:
    """Reads properties one by one, remembering which paths were unknown."""

    def __init__(self) -> None:
        self.unknown_paths: list[str] = []

    def read(self, container: Any, key: str | int, path: str) -> Any:
        """The value at `key`, None when absent, UNKNOWN when not known yet."""
        try:
            value = container[key]
        except UnknownValueError:
            self.unknown_paths.append(path)
            return UNKNOWN
        except (KeyError, IndexError, TypeError):
            return None
        if isinstance(value, str) and value in SENTINELS:
            self.unknown_paths.append(path)
            return UNKNOWN
        return value

    def items(self, container: Any, key: str, path: str) -> list[Any] | Unknown | None:
        """A list property element by element: an unknown element stays UNKNOWN in place."""
        value = self.read(container, key, path)
        if value is None or is_unknown(value):
            return value  # type: ignore[no-any-return]
        if isinstance(value, str) or not isinstance(value, Sequence):
            return [value]
        return [self.read(value, i, f"{path}[{i}]") for i in range(len(value))]

    def text(self, container: Any, key: str, path: str) -> str | Unknown | None:
        value = self.read(container, key, path)
        if value is None or is_unknown(value):
            return value  # type: ignore[no-any-return]
        return _show(value)


def _show(value: object, default: str = "(provider default)") -> str:
    if value is None:
        return default
    if is_unknown(value):
        return UNKNOWN_NAME
    if not isinstance(value, str | int | float):
        # A list or object where a name belongs (the provider would reject it): never a proxy's repr.
        return f"(not a name: {type(value).__name__.strip('_').removesuffix('Proxy').lower() or 'value'})"
    return str(value)


def repository_name(repository: object, location: object, project: object) -> str:
    """Artifact Registry's full repository name, however the stack spelled the reference."""
    if isinstance(repository, str) and repository.startswith("projects/"):
        return repository
    return f"projects/{_show(project)}/locations/{_show(location)}/repositories/{_show(repository)}"


def container_registry_bucket(location: object, project: object) -> str | Unknown:
    if is_unknown(project) or is_unknown(location):
        return UNKNOWN
    return container_registry_bucket_name(_show(project), location if isinstance(location, str) else None)


def parse_duration(value: object) -> float | None:
    """ "1209600s", "14d", "1h30m" -> seconds. Unparseable counts as 0 s: a DELETE of unknown age is
    treated as deleting everything (fail closed), and any age on a KEEP already limits it."""
    if value is None or is_unknown(value):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().lower()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return 0.0
    scale = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(float(n) * scale[u] for n, u in parts)


def is_registry_host(host: str) -> bool:
    return bool(_AR_HOST.match(host) or _GCR_HOST.match(host))


def split_image_reference(reference: str) -> tuple[str, str, str | None] | None:
    """ "host/path:tag" -> (host, path, tag); a digest reference has no tag. None when no registry host."""
    name, _, digest = reference.partition("@")
    slash = name.find("/")
    if slash < 0:
        return None
    host, rest = name[:slash], name[slash + 1 :]
    if "." not in host and ":" not in host and host != "localhost":
        return None
    last = rest.rsplit("/", 1)[-1]
    tag: str | None = None
    if ":" in last:
        rest, tag = rest.rsplit(":", 1)
    elif not digest:
        tag = "latest"  # what docker push does with an untagged name
    return host.lower(), rest, tag


def image_repository(host: str, path: str) -> tuple[ResourceRef, str] | None:
    """(repository, package) for an image path on Artifact Registry or Container Registry."""
    ar = _AR_HOST.match(host)
    segments = path.split("/")
    if ar and len(segments) >= 3:
        repo = f"projects/{segments[0]}/locations/{ar.group('location')}/repositories/{segments[1]}"
        return ResourceRef("repository", repo), "/".join(segments[2:])
    if _GCR_HOST.match(host) and len(segments) >= 2:
        return ResourceRef("repository", f"{host}/{segments[0]}"), "/".join(segments[1:])
    return None


# --- per shape ---------------------------------------------------------------------------------------------


def _condition(reader: _Reader, props: Any) -> Condition | None:
    cond = reader.read(props, "condition", ".condition")
    if cond is None:
        return None
    if is_unknown(cond) or not isinstance(cond, Mapping):
        return Condition(expression=UNKNOWN_NAME)
    expression = reader.text(cond, "expression", ".condition.expression")
    title = reader.text(cond, "title", ".condition.title")
    return Condition(
        expression=_show(expression, ""),
        title=_show(title, ""),
        description=_show(reader.text(cond, "description", ".condition.description"), ""),
    )


def iam_target(
    resource_type: str, props: Any, default_project: str | None, reader: _Reader | None = None
) -> ResourceRef:
    """The repository, bucket or project an IAM resource manages."""
    reader = reader or _Reader()
    kind, key, _ = IAM_TYPES[resource_type]
    if kind == "repository":
        name = repository_name(
            reader.read(props, "repository", ".repository"),
            reader.read(props, "location", ".location"),
            reader.read(props, "project", ".project") or default_project,
        )
    elif kind == "project":
        name = _show(reader.read(props, "project", ".project") or default_project)
    else:
        name = _show(reader.read(props, key, f".{key}"))
    return ResourceRef(kind, name)


def _policy_data_grants(
    reader: _Reader, props: Any, target: ResourceRef, source: str
) -> tuple[list[Grant], list[Finding]]:
    raw = reader.read(props, "policyData", ".policyData")
    if is_unknown(raw):
        return [Grant(target, UNKNOWN, UNKNOWN, "iam-policy", source=source)], []
    if raw is None:
        return [], [
            Finding(
                r,
                str(target),
                f"{source or target.name}: policyData is missing, so the "
                "authoritative IAM policy cannot be checked",
                {"policyData": None},
            )
            for r in GRANT_RULES
        ]
    try:
        document = json.loads(raw) if isinstance(raw, str) else raw
        bindings = document.get("bindings") or []
        if not isinstance(bindings, list):
            raise ValueError("bindings is not a list")
    except (ValueError, AttributeError) as exc:
        message = (
            f"policyData of {target.name} is not a valid IAM policy JSON document ({exc}); "
            "no member in it can be checked"
        )
        return [], [Finding(r, str(target), message, {"policyData": str(raw)[:200]}) for r in GRANT_RULES]
    grants: list[Grant] = []
    for binding in bindings:
        if not isinstance(binding, Mapping):
            continue
        role = binding.get("role")
        role_value: str | Unknown = UNKNOWN if not isinstance(role, str) or role in SENTINELS else role
        cond = binding.get("condition")
        condition = (
            Condition(
                str(cond.get("expression", "")), str(cond.get("title", "")), str(cond.get("description", ""))
            )
            if isinstance(cond, Mapping)
            else None
        )
        for member in binding.get("members") or []:
            member_value: str | Unknown = (
                UNKNOWN if not isinstance(member, str) or member in SENTINELS else member
            )
            grants.append(Grant(target, role_value, member_value, "iam-policy", condition, source))
    return grants, []


def _iam(resource_type: str, props: Any, urn: str, default_project: str | None) -> Adapted:
    reader = _Reader()
    target = iam_target(resource_type, props, default_project, reader)
    _, _, shape = IAM_TYPES[resource_type]
    problems: list[Finding] = []
    grants: list[Grant] = []
    if shape == "iam-policy":
        grants, problems = _policy_data_grants(reader, props, target, urn)
    else:
        role = reader.text(props, "role", ".role")
        role_value: str | Unknown = UNKNOWN if role is None else role
        condition = _condition(reader, props)
        members = (
            reader.items(props, "member", ".member")
            if shape == "iam-member"
            else reader.items(props, "members", ".members")
        )
        if is_unknown(members):
            members = [UNKNOWN]
        for member in members or []:  # type: ignore[union-attr]
            member_value: str | Unknown = UNKNOWN if member is None or is_unknown(member) else str(member)
            grants.append(Grant(target, role_value, member_value, shape, condition, urn))
    return Adapted(RegistryState(grants=tuple(grants)), tuple(problems), (), tuple(reader.unknown_paths))


def _acl(resource_type: str, props: Any, urn: str) -> Adapted:
    reader = _Reader()
    target = ResourceRef("bucket", _show(reader.read(props, "bucket", ".bucket")))
    default_shape: GrantShape = (
        "default-object-acl"
        if resource_type in (DEFAULT_OBJECT_ACCESS_CONTROL, DEFAULT_OBJECT_ACL)
        else "bucket-acl"
    )
    entries: list[tuple[str | Unknown, str | Unknown, GrantShape]] = []
    if resource_type in (BUCKET_ACCESS_CONTROL, DEFAULT_OBJECT_ACCESS_CONTROL):
        role = reader.text(props, "role", ".role")
        entity = reader.text(props, "entity", ".entity")
        entries.append(
            (UNKNOWN if role is None else role, UNKNOWN if entity is None else entity, default_shape)
        )
    else:
        role_entities = reader.items(props, "roleEntities", ".roleEntities")
        if is_unknown(role_entities):
            entries.append((UNKNOWN, UNKNOWN, default_shape))
        for item in role_entities or []:  # type: ignore[union-attr]
            if is_unknown(item) or not isinstance(item, str) or ":" not in item:
                entries.append((UNKNOWN, UNKNOWN, default_shape))
                continue
            role, entity = item.split(":", 1)
            entries.append((role, entity, default_shape))
        predefined = [("predefinedAcl", default_shape)]
        if resource_type == BUCKET_ACL:
            predefined.append(("defaultAcl", "default-object-acl"))
        for key, shape in predefined:
            value = reader.text(props, key, f".{key}")
            if is_unknown(value):
                entries.append((UNKNOWN, UNKNOWN, shape))
            elif value:
                for role, entity in _PREDEFINED_ACL.get(str(value).lower(), ()):
                    entries.append((role, entity, shape))
    grants = tuple(
        Grant(
            target,
            UNKNOWN if is_unknown(role) else f"acl:{str(role).upper()}",
            UNKNOWN if is_unknown(entity) else acl_entity_to_member(str(entity)),
            shape,
            None,
            urn,
        )
        for role, entity, shape in entries
    )
    return Adapted(RegistryState(grants=grants), (), (), tuple(reader.unknown_paths))


def _mapping(value: Any) -> Mapping[str, Any] | Unknown | None:
    if value is None or is_unknown(value):
        return value  # type: ignore[no-any-return]
    return value if isinstance(value, Mapping) else None


def _prefixes(reader: _Reader, cond: Any, key: str, path: str) -> tuple[str, ...]:
    items = reader.items(cond, key, f"{path}.{key}")
    if items is None:
        return ()
    if is_unknown(items):
        return (UNKNOWN_NAME,)  # a prefix nothing matches: judged as present but unknown
    return tuple(UNKNOWN_NAME if is_unknown(i) else str(i) for i in items)  # type: ignore[union-attr]


def _cleanup_policies(reader: _Reader, props: Any) -> tuple[CleanupPolicy, ...] | Unknown:
    items = reader.items(props, "cleanupPolicies", ".cleanupPolicies")
    if items is None:
        return ()
    if is_unknown(items):
        return UNKNOWN
    policies: list[CleanupPolicy] = []
    for index, item in enumerate(items):  # type: ignore[arg-type]
        path = f".cleanupPolicies[{index}]"
        if is_unknown(item) or not isinstance(item, Mapping):
            return UNKNOWN
        action = reader.text(item, "action", f"{path}.action")
        if is_unknown(action):
            return UNKNOWN
        cond = _mapping(reader.read(item, "condition", f"{path}.condition"))
        if is_unknown(cond):
            return UNKNOWN
        condition = None
        if cond is not None:
            tag_state = reader.text(cond, "tagState", f"{path}.condition.tagState")
            if is_unknown(tag_state):
                return UNKNOWN
            older = reader.read(cond, "olderThan", f"{path}.condition.olderThan")
            newer = reader.read(cond, "newerThan", f"{path}.condition.newerThan")
            condition = CleanupCondition(
                tag_state=tag_state,  # type: ignore[arg-type]
                tag_prefixes=_prefixes(reader, cond, "tagPrefixes", f"{path}.condition"),
                version_name_prefixes=_prefixes(reader, cond, "versionNamePrefixes", f"{path}.condition"),
                package_name_prefixes=_prefixes(reader, cond, "packageNamePrefixes", f"{path}.condition"),
                older_than_seconds=0.0 if is_unknown(older) else parse_duration(older),
                newer_than_seconds=0.0 if is_unknown(newer) else parse_duration(newer),
            )
        recent = _mapping(reader.read(item, "mostRecentVersions", f"{path}.mostRecentVersions"))
        if is_unknown(recent):
            return UNKNOWN
        most_recent = None
        if recent is not None:
            keep = reader.read(recent, "keepCount", f"{path}.mostRecentVersions.keepCount")
            most_recent = MostRecentVersions(
                keep_count=None if keep is None or is_unknown(keep) else int(keep),
                package_name_prefixes=_prefixes(
                    reader, recent, "packageNamePrefixes", f"{path}.mostRecentVersions"
                ),
            )
        policy_id = reader.text(item, "id", f"{path}.id")
        policies.append(
            CleanupPolicy(
                id=f"#{index}" if policy_id is None or is_unknown(policy_id) else str(policy_id),
                action=str(action or "DELETE"),
                condition=condition,
                most_recent_versions=most_recent,
            )
        )
    return tuple(policies)


def _labels(reader: _Reader, props: Any) -> Mapping[str, str] | Unknown:
    labels = _mapping(reader.read(props, "labels", ".labels"))
    if is_unknown(labels):
        return UNKNOWN
    merged: dict[str, str] = {}
    # Provider defaultLabels reach the repository through effectiveLabels (added by the provider's Check).
    effective = _mapping(reader.read(props, "effectiveLabels", ".effectiveLabels"))
    for source in (effective, labels):
        if source is None or is_unknown(source):
            continue
        for key in source:  # type: ignore[union-attr]
            value = reader.read(source, key, f".labels.{key}")
            merged[str(key)] = "" if value is None else (UNKNOWN_NAME if is_unknown(value) else str(value))
    return merged


def _repository(props: Any, urn: str, name: str, default_project: str | None) -> Adapted:
    reader = _Reader()
    repo_id = reader.read(props, "repositoryId", ".repositoryId") or name
    ref = ResourceRef(
        "repository",
        repository_name(
            repo_id,
            reader.read(props, "location", ".location"),
            reader.read(props, "project", ".project") or default_project,
        ),
    )
    fmt = reader.text(props, "format", ".format")
    docker = _mapping(reader.read(props, "dockerConfig", ".dockerConfig"))
    immutable: bool | Unknown
    if docker is None:
        immutable = False
    elif is_unknown(docker):
        immutable = UNKNOWN
    else:
        value = reader.read(docker, "immutableTags", ".dockerConfig.immutableTags")
        immutable = UNKNOWN if is_unknown(value) else value is True
    scanning_config = _mapping(
        reader.read(props, "vulnerabilityScanningConfig", ".vulnerabilityScanningConfig")
    )
    scanning: str | Unknown
    if scanning_config is None:
        scanning = "INHERITED"
    elif is_unknown(scanning_config):
        scanning = UNKNOWN
    else:
        value = reader.text(
            scanning_config, "enablementConfig", ".vulnerabilityScanningConfig.enablementConfig"
        )
        scanning = "INHERITED" if value is None else value
    dry_run = reader.read(props, "cleanupPolicyDryRun", ".cleanupPolicyDryRun")
    mode = reader.text(props, "mode", ".mode")
    kms = reader.text(props, "kmsKeyName", ".kmsKeyName")
    repository = Repository(
        ref=ref,
        # format is required by the provider: a missing one means we cannot tell, not "DOCKER".
        format=UNKNOWN if fmt is None else fmt,
        mode=mode or "STANDARD_REPOSITORY",
        immutable_tags=immutable,
        cleanup_policies=_cleanup_policies(reader, props),
        cleanup_dry_run=UNKNOWN if is_unknown(dry_run) else dry_run is True,
        scanning=scanning,
        kms_key_name=UNKNOWN if is_unknown(kms) else (kms or None),
        labels=_labels(reader, props),
        source=urn,
    )
    return Adapted(RegistryState(repositories=(repository,)), (), (), tuple(reader.unknown_paths))


def _bucket(props: Any, urn: str, name: str) -> Adapted:
    reader = _Reader()
    bucket_name = reader.text(props, "name", ".name")
    shown = name if bucket_name is None else _show(bucket_name)
    uniform = reader.read(props, "uniformBucketLevelAccess", ".uniformBucketLevelAccess")
    prevention = reader.text(props, "publicAccessPrevention", ".publicAccessPrevention")
    bucket = Bucket(
        ref=ResourceRef("bucket", shown),
        uniform_access=UNKNOWN if is_unknown(uniform) else uniform is True,
        public_access_prevention=UNKNOWN if is_unknown(prevention) else (prevention or "inherited"),
        is_container_registry=isinstance(bucket_name, str) and container_registry_of_bucket(bucket_name) is not None,
        source=urn,
    )
    return Adapted(RegistryState(buckets=(bucket,)), (), (), tuple(reader.unknown_paths))


def _container_registry(props: Any, urn: str, default_project: str | None) -> Adapted:
    reader = _Reader()
    location = reader.text(props, "location", ".location")
    project = reader.read(props, "project", ".project") or default_project
    if is_unknown(location):
        host = UNKNOWN_NAME
    else:
        host = container_registry_host(location if isinstance(location, str) else None)
    registry = LegacyRegistry(
        ref=ResourceRef("container-registry", ContainerRegistryBucket(host, _show(project)).registry),
        bucket=container_registry_bucket(location, project if project is not None else "(provider default)"),
        source=urn,
    )
    return Adapted(RegistryState(legacy_registries=(registry,)), (), (), tuple(reader.unknown_paths))


def _image(resource_type: str, props: Any, urn: str) -> Adapted:
    reader = _Reader()
    references: list[str] = []
    undetermined: list[Undetermined] = []
    if resource_type == DOCKER_IMAGE:
        if reader.read(props, "skipPush", ".skipPush") is True:
            return Adapted()  # built locally only: nothing reaches the registry
        image_name = reader.text(props, "imageName", ".imageName")
        if is_unknown(image_name):
            undetermined.append(
                Undetermined("version-tag-required", urn, "imageName is not known yet (preview)")
            )
        elif image_name:
            references.append(str(image_name))
    else:
        push = reader.read(props, "push", ".push")
        if push is False or push is None:
            return Adapted()  # docker-build pushes only when push is true
        tags = reader.items(props, "tags", ".tags")
        if is_unknown(tags):
            undetermined.append(Undetermined("version-tag-required", urn, "tags are not known yet (preview)"))
        known_tags = tags if isinstance(tags, list) else []
        for index, tag in enumerate(known_tags):
            if is_unknown(tag):
                undetermined.append(
                    Undetermined("version-tag-required", urn, f"tags[{index}] is not known yet (preview)")
                )
            elif isinstance(tag, str):
                references.append(tag)
        if undetermined:
            # The unknown tag may be the version tag: judging the known ones alone would be a false verdict.
            references = []
        if is_unknown(push):
            undetermined.append(Undetermined("version-tag-required", urn, "push is not known yet (preview)"))
    grouped: dict[tuple[ResourceRef, str], list[str]] = {}
    for reference in references:
        parsed = split_image_reference(reference)
        if parsed is None or not is_registry_host(parsed[0]):
            continue
        host, path, tag = parsed
        located = image_repository(host, path)
        if located is None:
            continue
        tags_of = grouped.setdefault(located, [])
        if tag is not None:
            tags_of.append(tag)
    images = tuple(
        Image(repository=repo, package=package, digest=None, tags=tuple(tags), source=urn)
        for (repo, package), tags in grouped.items()
    )
    return Adapted(RegistryState(images=images), (), tuple(undetermined), tuple(reader.unknown_paths))


def adapt(
    resource_type: str, props: Any, urn: str = "", name: str = "", default_project: str | None = None
) -> Adapted | None:
    """The catalogue's view of one resource; None for types the catalogue has no opinion on."""
    if resource_type in IAM_TYPES:
        return _iam(resource_type, props, urn, default_project)
    if resource_type in ACL_TYPES:
        return _acl(resource_type, props, urn)
    if resource_type == AR_REPOSITORY:
        return _repository(props, urn, name, default_project)
    if resource_type == BUCKET:
        return _bucket(props, urn, name)
    if resource_type == CONTAINER_REGISTRY:
        return _container_registry(props, urn, default_project)
    if resource_type in IMAGE_TYPES:
        return _image(resource_type, props, urn)
    return None


# --- stack-level: IAM declarations -------------------------------------------------------------------------


@dataclass(frozen=True)
class StackResource:
    """What the stack policy needs of a resource: from a pulumi_policy PolicyResource or a stack export."""

    resource_type: str
    props: Any
    urn: str
    name: str
    # property name -> the resources that property was computed from
    property_dependencies: Mapping[str, Sequence[StackResource]] = field(default_factory=dict)


def _dependency_target(
    kind: TargetKind, deps: Sequence[StackResource], default_project: str | None
) -> str | None:
    """Name the target after the resource it was computed from, so `bucket=registry.id` and
    `bucket="artifacts.p.appspot.com"` still meet when the referenced resource says its name."""
    if len(deps) != 1:
        return None
    dep = deps[0]
    reader = _Reader()
    if kind == "repository" and dep.resource_type == AR_REPOSITORY:
        repo_id = reader.read(dep.props, "repositoryId", ".repositoryId") or dep.name
        name = repository_name(
            repo_id,
            reader.read(dep.props, "location", ".location"),
            reader.read(dep.props, "project", ".project") or default_project,
        )
    elif kind == "bucket" and dep.resource_type == BUCKET:
        name = _show(reader.read(dep.props, "name", ".name"))
    elif kind == "bucket" and dep.resource_type == CONTAINER_REGISTRY:
        bucket = container_registry_bucket(
            reader.read(dep.props, "location", ".location"),
            reader.read(dep.props, "project", ".project") or default_project or "(provider default)",
        )
        name = _show(bucket)
    else:
        name = UNKNOWN_NAME
    if UNKNOWN_NAME in name:
        return f"resource {dep.urn}"
    return name


def iam_declaration(
    resource: StackResource, default_project: str | None = None
) -> IamDeclaration | Undetermined | None:
    """The IAM declaration a resource makes, Undetermined when its target or role cannot be told yet."""
    if resource.resource_type not in IAM_TYPES:
        return None
    kind, key, shape = IAM_TYPES[resource.resource_type]
    reader = _Reader()
    target = iam_target(resource.resource_type, resource.props, default_project, reader)
    if UNKNOWN_NAME in target.name:
        named = _dependency_target(kind, resource.property_dependencies.get(key, ()), default_project)
        if named is None:
            return Undetermined(
                "iam-authoritative-conflict",
                resource.urn,
                f"the {kind} that {resource.name} manages (.{key}) is not known yet",
            )
        target = ResourceRef(kind, named)
    role: str | None = None
    if shape != "iam-policy":
        value = reader.text(resource.props, "role", ".role")
        if value is None or is_unknown(value):
            return Undetermined(
                "iam-authoritative-conflict", resource.urn, f"the role of {resource.name} is not known yet"
            )
        role = str(value)
    return IamDeclaration(target, shape, role, resource.urn)


def iam_declarations(
    resources: Sequence[StackResource], default_project: str | None = None
) -> Iterator[IamDeclaration | Undetermined]:
    for resource in resources:
        declaration = iam_declaration(resource, default_project)
        if declaration is not None:
            yield declaration
