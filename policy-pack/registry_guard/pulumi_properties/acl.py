"""Cloud Storage ACL resources (bucket and default object ACLs, single entries or whole lists) as grants."""

from __future__ import annotations

from typing import Any, Final

from ..catalogue.model import UNKNOWN, Grant, GrantShape, RegistryState, ResourceRef, Unknown, is_unknown
from ..catalogue.principals import acl_entity_to_member
from .reader import PropertyReader, show
from .types import (
    BUCKET_ACCESS_CONTROL,
    BUCKET_ACL,
    DEFAULT_OBJECT_ACCESS_CONTROL,
    DEFAULT_OBJECT_ACL,
    OBJECT_ACCESS_CONTROL,
    OBJECT_ACL,
)

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

Entry = tuple[str | Unknown, str | Unknown, GrantShape]  # role, entity, shape


def _entries(resource_type: str, props: Any, reader: PropertyReader, shape: GrantShape) -> list[Entry]:
    if resource_type in (BUCKET_ACCESS_CONTROL, DEFAULT_OBJECT_ACCESS_CONTROL, OBJECT_ACCESS_CONTROL):
        role = reader.text(props, "role", ".role")
        entity = reader.text(props, "entity", ".entity")
        return [(UNKNOWN if role is None else role, UNKNOWN if entity is None else entity, shape)]
    entries: list[Entry] = []
    role_entities = reader.items(props, "roleEntities", ".roleEntities")
    if is_unknown(role_entities):
        entries.append((UNKNOWN, UNKNOWN, shape))
        role_entities = []
    for item in role_entities or []:
        if is_unknown(item) or not isinstance(item, str) or ":" not in item:
            entries.append((UNKNOWN, UNKNOWN, shape))
            continue
        role, entity = item.split(":", 1)
        entries.append((role, entity, shape))
    predefined: list[tuple[str, GrantShape]] = [("predefinedAcl", shape)]
    if resource_type == BUCKET_ACL:
        predefined.append(("defaultAcl", "default-object-acl"))
    for key, key_shape in predefined:
        value = reader.text(props, key, f".{key}")
        if is_unknown(value):
            entries.append((UNKNOWN, UNKNOWN, key_shape))
        elif value:
            entries.extend((role, entity, key_shape) for role, entity in _PREDEFINED_ACL.get(value.lower(), ()))
    return entries


def adapt_acl(resource_type: str, props: Any, urn: str, reader: PropertyReader) -> RegistryState:
    bucket = show(reader.read(props, "bucket", ".bucket"))
    shape: GrantShape
    if resource_type in (OBJECT_ACCESS_CONTROL, OBJECT_ACL):
        # One object: in a Container Registry bucket, an image layer or manifest.
        target = ResourceRef("object", f"{bucket}/{show(reader.read(props, 'object', '.object'))}")
        shape = "object-acl"
    else:
        target = ResourceRef("bucket", bucket)
        shape = "default-object-acl" if resource_type in (DEFAULT_OBJECT_ACCESS_CONTROL, DEFAULT_OBJECT_ACL) \
            else "bucket-acl"
    grants = tuple(
        Grant(
            target,
            UNKNOWN if is_unknown(role) else f"acl:{role.upper()}",
            UNKNOWN if is_unknown(entity) else acl_entity_to_member(entity),
            entry_shape,
            None,
            urn,
        )
        for role, entity, entry_shape in _entries(resource_type, props, reader, shape)
    )
    return RegistryState(grants=grants)
