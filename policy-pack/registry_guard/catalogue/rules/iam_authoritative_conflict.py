"""IAM resources of one stack that overwrite each other on the same target."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..model import IamDeclaration, ResourceRef, Subject
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="iam-authoritative-conflict",
    title="IAM resources do not fight",
    severity="high",
    enforcement="mandatory",
    stages=(Stage.DEPLOY,),
    subjects=(Subject.IAM_DECLARATION,),
    tags=("iam",),
    description="An authoritative IAM policy resource and IAM binding/member resources target the same repository or "
    "bucket, or two bindings set the same role on the same target: they overwrite each other and one "
    "silently wins.",
    remediation=(
        "Use either one authoritative IamPolicy per target or IamBinding/IamMember resources, never both.",
        "Merge bindings for the same role on the same target into one IamBinding.",
    ),
    url="https://www.pulumi.com/registry/packages/gcp/api-docs/artifactregistry/repositoryiampolicy/",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    by_target: dict[ResourceRef, list[IamDeclaration]] = defaultdict(list)
    for declaration in inputs.state.iam_declarations:
        by_target[declaration.target].append(declaration)
    for target, declarations in sorted(by_target.items()):
        policies = [d for d in declarations if d.shape == "iam-policy"]
        others = [d for d in declarations if d.shape != "iam-policy"]
        if policies and (len(policies) > 1 or others):
            yield rule.finding(
                str(target),
                f"{len(policies)} authoritative IAM policy resource(s) and {len(others)} binding/member "
                f"resource(s) manage {target.name}; they overwrite each other",
                {"resources": sorted(d.source for d in declarations)},
            )
            continue
        by_role: dict[str, list[IamDeclaration]] = defaultdict(list)
        for declaration in others:
            if declaration.role is not None:
                by_role[declaration.role].append(declaration)
        for role, same_role in sorted(by_role.items()):
            bindings = [d for d in same_role if d.shape == "iam-binding"]
            if bindings and len(same_role) > 1:
                yield rule.finding(
                    str(target),
                    f"{len(bindings)} IAM binding(s) and {len(same_role) - len(bindings)} member resource(s) set "
                    f"role {role} on {target.name}; the binding is authoritative for the role and one silently wins",
                    {"role": role, "resources": sorted(d.source for d in same_role)},
                )
