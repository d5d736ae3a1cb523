"""IAM resources of one stack that overwrite each other on the same target."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..model import IamDeclaration, ResourceRef, Subject
from ..rule import Inputs, Rule, Stage, declare


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _grants(declaration: IamDeclaration) -> str:
    who = ", ".join(declaration.members) if declaration.members else "no members"
    return f"{_name(declaration.source)} ({declaration.role}: {who})"


def _condition(condition: str) -> str:
    return f" with condition {condition!r}" if condition else ""


@declare(
    id="iam-authoritative-conflict",
    title="IAM resources do not fight",
    severity="high",
    enforcement="mandatory",
    stages=(Stage.DEPLOY,),
    subjects=(Subject.IAM_DECLARATION,),
    tags=("iam",),
    description="Across the stack's IAM resources: an authoritative IAM policy resource and IAM binding or member "
    "resources target the same repository, bucket, project, folder, organization or service account, or two "
    "bindings set the same role with the same condition on one target (the provider manages a role once per "
    "condition): each apply of one removes what the other granted, and which grants hold depends on the order.",
    remediation=(
        "Use either one authoritative IamPolicy per target or IamBinding/IamMember resources, never both.",
        "Merge bindings for the same role and condition on the same target into one IamBinding.",
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
            replaced = (f"the grants of {', '.join(_grants(d) for d in others)} are removed" if others
                        else "each removes the other's grants")
            yield rule.finding(
                str(target),
                f"{len(policies)} authoritative IAM policy resource(s) and {len(others)} binding/member "
                f"resource(s) manage {target.name}; they overwrite each other: when "
                f"{', '.join(_name(d.source) for d in policies)} is applied it replaces the whole policy and "
                f"{replaced}",
                {"resources": sorted(d.source for d in declarations)},
            )
            continue
        by_role: dict[tuple[str, str], list[IamDeclaration]] = defaultdict(list)
        for declaration in others:
            if declaration.role is not None:
                by_role[(declaration.role, declaration.condition)].append(declaration)
        for (role, condition), same_role in sorted(by_role.items()):
            bindings = [d for d in same_role if d.shape == "iam-binding"]
            if not bindings or len(same_role) < 2:
                continue
            if len(bindings) > 1:
                lost = "whichever is applied last removes the members the other bindings set: " + \
                       "; ".join(_grants(d) for d in bindings)
            else:
                members = [d for d in same_role if d.shape != "iam-binding"]
                lost = f"applying {_name(bindings[0].source)} removes the grants of " + \
                       ", ".join(_grants(d) for d in members)
            yield rule.finding(
                str(target),
                f"{len(bindings)} IAM binding(s) and {len(same_role) - len(bindings)} member resource(s) set role "
                f"{role}{_condition(condition)} on {target.name}; the binding is authoritative for the role and "
                f"condition: {lost}",
                {"role": role, "condition": condition or None, "resources": sorted(d.source for d in same_role)},
            )
