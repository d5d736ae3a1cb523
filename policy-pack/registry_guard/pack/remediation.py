"""Remediations for the two rules whose fix is a property the stack can simply set.

Why only these two: immutable tags and bucket hardening are safe to switch on in place; the other rules'
fixes change who can reach the registry or recreate it, which a policy must not decide silently. They
run only when a policy's enforcement level is `remediate` (the engine calls Remediate before Analyze and
analyzes the remediated properties).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import ResourceValidationArgs
from pulumi_policy.proxy import UnknownValueError

from registry_guard.pulumi_properties.adapter import AR_REPOSITORY, BUCKET, SENTINELS


def plain(value: Any) -> Any:
    """A deep, plain copy of (proxied) properties. Unknowns are copied as their sentinel strings, so the
    engine still sees them as unknown instead of a remediation inventing a value."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[str(key)] = plain(value[key])
            except UnknownValueError as exc:
                out[str(key)] = exc.unknown_type_sentinel
        return out
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError as exc:
                items.append(exc.unknown_type_sentinel)
        return items
    return value


def remediate_immutable_tags(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """Set dockerConfig.immutableTags on Docker repositories that do not have it."""
    if args.resource_type != AR_REPOSITORY:
        return None
    props: dict[str, Any] = plain(args.props)
    fmt = props.get("format")
    # dockerConfig is valid only on Docker repositories; an unknown format is left to the validation.
    if not isinstance(fmt, str) or fmt in SENTINELS or fmt.upper() != "DOCKER":
        return None
    docker = props.get("dockerConfig")
    if not isinstance(docker, dict):
        docker = {}
    if docker.get("immutableTags") is True:
        return None
    props["dockerConfig"] = {**docker, "immutableTags": True}
    return props


def remediate_bucket_hardening(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """Turn on uniform bucket-level access and enforce public access prevention."""
    if args.resource_type != BUCKET:
        return None
    props: dict[str, Any] = plain(args.props)
    if props.get("uniformBucketLevelAccess") is True and props.get("publicAccessPrevention") == "enforced":
        return None
    props["uniformBucketLevelAccess"] = True
    props["publicAccessPrevention"] = "enforced"
    return props


REMEDIATIONS = {
    "immutable-tags": remediate_immutable_tags,
    "bucket-hardening": remediate_bucket_hardening,
}
