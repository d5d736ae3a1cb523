"""Declared state: a `pulumi stack export` file (deployment version 3) as the normalized model.

The pack's adapter (`registry_guard.pulumi_properties.adapter`) turns each resource's properties into the model, so
"declared" means exactly what the policy pack judged at deploy time. Outputs are laid over inputs:
after `pulumi up` they carry what the provider filled in (project, full names).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE
from registry_guard.catalogue.findings import Finding
from registry_guard.catalogue.model import RegistryState
from registry_guard.pulumi_properties.adapt import adapt

from audit.input_files import MAX_DOCUMENT_BYTES, load_document

_SECRET_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"


class StackExportError(ValueError):
    """The file is not a usable stack export; the one-line message names the file and the problem."""


@dataclass(frozen=True)
class DeclaredState:
    state: RegistryState
    # finding resource ("repository:projects/…") -> where the stack declares it ("__main__.py#42")
    positions: Mapping[str, str] = field(default_factory=dict)
    resources: int = 0

    def locate(self, findings: Iterable[Finding]) -> tuple[Finding, ...]:
        """Attach the declaring source line to findings about declared resources."""
        return tuple(
            replace(f, source_location=self.positions.get(f.resource, f.source_location)) for f in findings
        )


def _unsecret(value: Any) -> Any:
    """Encrypted secrets are unknown to us; `--show-secrets` plaintext is JSON-encoded."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) == _SECRET_VALUE:
            if "plaintext" in value:
                try:
                    return _unsecret(json.loads(value["plaintext"]))
                except (TypeError, ValueError):
                    return UNKNOWN_STRING_VALUE
            return UNKNOWN_STRING_VALUE
        return {k: _unsecret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsecret(v) for v in value]
    return value


def _position(source_position: Any) -> str | None:
    # "project:///__main__.py#42,5" -> "__main__.py#42"
    if not isinstance(source_position, str) or "#" not in source_position:
        return None
    path, _, line_col = source_position.partition("#")
    path = path.removeprefix("project://").lstrip("/")
    return f"{path}#{line_col.split(',')[0]}" if path else None


def parse_stack_export(document: Any, name: str = "stack export") -> DeclaredState:
    if not isinstance(document, dict) or "deployment" not in document:
        raise StackExportError(f"{name}: not a `pulumi stack export` document (no deployment)")
    version = document.get("version")
    if version != 3:
        raise StackExportError(f"{name}: deployment version {version!r} is not supported (expected 3)")
    deployment = document["deployment"]
    resources = deployment.get("resources") if isinstance(deployment, dict) else None
    if resources is None:
        resources = []
    if not isinstance(resources, list):
        raise StackExportError(f"{name}: deployment.resources is not a list")
    default_project = _default_project(resources)
    state = RegistryState()
    positions: dict[str, str] = {}
    for index, resource in enumerate(resources):
        if not isinstance(resource, dict):
            raise StackExportError(f"{name}: deployment.resources[{index}] is not an object")
        rtype, urn = resource.get("type"), resource.get("urn")
        if not isinstance(rtype, str) or not isinstance(urn, str):
            raise StackExportError(f"{name}: deployment.resources[{index}] lacks a type or urn")
        if resource.get("delete") or not resource.get("custom", False):
            continue  # pending deletion, or a component/stack with no cloud state of its own
        inputs, outputs = resource.get("inputs") or {}, resource.get("outputs") or {}
        if not isinstance(inputs, dict) or not isinstance(outputs, dict):
            raise StackExportError(f"{name}: {urn}: inputs and outputs must be objects")
        props = _unsecret({**inputs, **outputs})
        adapted = adapt(rtype, props, urn, urn.rsplit("::", 1)[-1], default_project)
        if adapted is None:
            continue
        state = state.merged(adapted.state)
        where = _position(resource.get("sourcePosition"))
        if where:
            for ref in _refs(adapted.state):
                positions.setdefault(ref, where)
    return DeclaredState(state, positions, len(resources))


def _default_project(resources: list[Any]) -> str | None:
    """The default provider's project, for resources that leave `project` to it."""
    for resource in resources:
        if isinstance(resource, dict) and str(resource.get("type", "")).startswith("pulumi:providers:gcp"):
            inputs = resource.get("inputs")
            project = inputs.get("project") if isinstance(inputs, dict) else None
            if isinstance(project, str):
                return project
    return None


def _refs(state: RegistryState) -> list[str]:
    return ([str(r.ref) for r in state.repositories] + [str(b.ref) for b in state.buckets]
            + [str(g.target) for g in state.grants] + [str(r.ref) for r in state.legacy_registries])


def load_stack_export(path: Path) -> DeclaredState:
    document = load_document(path, "json", StackExportError, MAX_DOCUMENT_BYTES)
    try:
        return parse_stack_export(document, str(path))
    except RecursionError:  # property values nested past what the adapter walks
        raise StackExportError(f"{path}: a resource's properties are nested too deeply") from None
