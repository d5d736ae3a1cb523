"""The real pack's policies (names, levels, config schemas, remediation hooks) with a `validate` that
does nothing, under pulumi-policy: benchmark 5's floor for what the SDK costs per request."""

from typing import Any

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy
from registry_policies.policies import all_policies
from registry_policies.remediation import REMEDIATIONS


def _nothing(args: Any, report_violation: Any) -> None:
    return None


def _metadata(policy: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(policy).items() if not k.startswith("_")}


policies: list[Any] = []
for real in all_policies():
    if isinstance(real, StackValidationPolicy):
        policies.append(StackValidationPolicy(validate=_nothing, **_metadata(real)))
    else:
        policies.append(ResourceValidationPolicy(validate=_nothing, remediate=REMEDIATIONS.get(real.name),
                                                 **_metadata(real)))

PolicyPack(name="sdk-floor", policies=policies, enforcement_level=EnforcementLevel.ADVISORY)
