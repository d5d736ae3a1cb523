"""A rule's declared fix, as a CrossGuard remediation.

The engine calls Remediate (only for policies at level `remediate`) before Analyze and analyzes the
remediated properties. A fix gets a plain copy of the properties it may change and returns it changed,
or None to leave the resource as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import ResourceValidationArgs
from pulumi_policy.proxy import UnknownValueError

from ..catalogue.rule import Fix


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


def remediation(fix: Fix, types: frozenset[str]) -> Any:
    """The `remediate` callback for a policy whose rule declares `fix`, for resources of `types`."""

    def remediate(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
        if args.resource_type not in types:
            return None
        return fix(args.resource_type, plain(args.props))

    return remediate
