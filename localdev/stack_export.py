"""Write a `pulumi stack export` (deployment v3) document from a stack program run under mocks.

There is no Pulumi CLI here; this gives the demo and the tests a declared state in the real export
format, so the audit's `--desired` reader is exercised on the shape `pulumi stack export` writes: each
resource's outputs are what the run's mocks answered, the provider's read-back forms (a bucket IAM
resource's `bucket` is `b/NAME`, a repository IAM resource's `repository` the full resource name).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from audit.sources.stack_program import StackRun


def stack_export_document(run: StackRun, gcp_project: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    provider_urn = f"urn:pulumi:{run.stack}::{run.project}::pulumi:providers:gcp::default_10_2_0"
    resources: list[dict[str, Any]] = [
        {"urn": run.stack_urn or f"urn:pulumi:{run.stack}::{run.project}::pulumi:pulumi:Stack::"
                                  f"{run.project}-{run.stack}",
         "custom": False, "type": "pulumi:pulumi:Stack", "outputs": dict(run.outputs), "created": now},
        {"urn": provider_urn, "custom": True, "id": "provider-id", "type": "pulumi:providers:gcp",
         "inputs": {"project": gcp_project, "version": "10.2.0"}, "outputs": {"project": gcp_project}},
    ]
    for index, resource in enumerate(run.resources):
        entry: dict[str, Any] = {
            "urn": resource.urn, "custom": resource.custom, "type": resource.type,
            "inputs": dict(resource.inputs), "outputs": dict(resource.outputs) or dict(resource.inputs),
            "dependencies": list(resource.dependencies),
            "propertyDependencies": {k: list(v) for k, v in resource.property_dependencies.items()},
            "created": now, "modified": now,
        }
        if resource.source_position:  # the SDK's own position, in the CLI's `project:///path#line,col` form
            path, _, line = resource.source_position.partition("#")
            entry["sourcePosition"] = f"project:///{path}#{line},1"
        if resource.parent:
            entry["parent"] = resource.parent
        if resource.custom:
            entry["id"] = f"id-{index}"
            entry["provider"] = f"{provider_urn}::provider-id"
        resources.append(entry)
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": now, "magic": "", "version": "v3.272.0"},
            "secrets_providers": {"type": "passphrase", "state": {}},
            "resources": resources,
        },
    }

