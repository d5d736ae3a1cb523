"""Run policies in-process through the servicer the pack process serves with (`registry_guard.pack.servicer`).

Why the servicer and not `policy.validate`: it applies the proxy that raises on unknowns, maps
enforcement levels (REMEDIATE -> MANDATORY, unknown -> ADVISORY) and prefixes descriptions exactly as
the pack process does, so a fixture asserts what a user would see.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from registry_guard.pack.policies import all_policies
from registry_guard.pack.servicer import SharedDecodeServicer

from audit.offline_check.analyzer import level_name

_LEVELS = {
    "advisory": proto.ADVISORY,
    "mandatory": proto.MANDATORY,
    "remediate": proto.REMEDIATE,
    "disabled": proto.DISABLED,
}


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    message: str
    urn: str


def struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    value = struct_pb2.Struct()
    value.update(json.loads(json.dumps(dict(props))))
    return value


def servicer(
    config: Mapping[str, Mapping[str, Any]] | None = None,
    kind: type[_PolicyAnalyzerServicer] = SharedDecodeServicer,
) -> _PolicyAnalyzerServicer:
    """A fresh in-process servicer, configured like the engine would (levels + properties per policy).
    `kind=_PolicyAnalyzerServicer` gives the SDK's own, to compare against."""
    service = kind("model-registry-guard", "0.0.1", all_policies(), EnforcementLevel.ADVISORY)
    request = proto.ConfigureAnalyzerRequest()
    for policy in service.GetAnalyzerInfo(None, None).policies:
        entry = dict((config or {}).get(policy.name, {}))
        level = entry.pop("enforcementLevel", level_name(policy.enforcementLevel))
        request.policyConfig[policy.name].enforcementLevel = _LEVELS[level]
        request.policyConfig[policy.name].properties.CopyFrom(struct(entry))
    service.Configure(request, None)
    return service


def urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:dev::model-registry::{type_token}::{name}"


def analyze(
    type_token: str,
    props: Mapping[str, Any],
    config: Mapping[str, Mapping[str, Any]] | None = None,
    name: str = "res",
    service: _PolicyAnalyzerServicer | None = None,
) -> list[Diagnostic]:
    service = service or servicer(config)
    request = proto.AnalyzeRequest(
        type=type_token, properties=struct(props), urn=urn(type_token, name), name=name
    )
    response = service.Analyze(request, None)
    return [
        Diagnostic(d.policyName, level_name(d.enforcementLevel), d.message, d.urn)
        for d in response.diagnostics
    ]


@dataclass(frozen=True)
class StackItem:
    type: str
    name: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, Sequence[str]] | None = None  # property -> names of other items


def analyze_stack(
    items: Sequence[StackItem], config: Mapping[str, Mapping[str, Any]] | None = None
) -> list[Diagnostic]:
    service = servicer(config)
    urns = {item.name: urn(item.type, item.name) for item in items}
    resources = [
        proto.AnalyzerResource(
            type=item.type,
            properties=struct(item.props),
            urn=urns[item.name],
            name=item.name,
            dependencies=sorted(
                {urns[d] for deps in (item.property_dependencies or {}).values() for d in deps}
            ),
            propertyDependencies={
                k: proto.AnalyzerPropertyDependencies(urns=[urns[d] for d in v])
                for k, v in (item.property_dependencies or {}).items()
            },
        )
        for item in items
    ]
    response = service.AnalyzeStack(proto.AnalyzeStackRequest(resources=resources), None)
    return [
        Diagnostic(d.policyName, level_name(d.enforcementLevel), d.message, d.urn)
        for d in response.diagnostics
    ]
