"""Live IAM members and roles match what the stack declares."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..model import Grant, ResourceRef, Subject, is_unknown
from ..principals import parse_member
from ..rule import Inputs, Rule, Stage, declare

# Default bucket bindings Cloud Storage creates for the project's owners, editors and viewers.
_LEGACY_ROLES = ("roles/storage.legacyBucketOwner", "roles/storage.legacyBucketReader",
                 "roles/storage.legacyObjectOwner", "roles/storage.legacyObjectReader")

GrantKey = tuple[str, str, str]  # role, canonical member, condition expression


def _key(grant: Grant) -> GrantKey:
    condition = grant.condition.expression if grant.condition else ""
    return str(grant.role), parse_member(str(grant.member)).canonical, condition


@declare(
    id="iam-drift",
    title="Live IAM matches the stack",
    severity="high",
    stages=(Stage.DECLARED,),
    subjects=(Subject.GRANT,),
    description="Live IAM members and roles differ from what the stack declares; each added or removed member is "
    "named.",
    remediation=(
        "Run `pulumi preview --refresh` to see the drift, then `pulumi up` to restore the declared IAM, or "
        "declare the new member in the stack if it is intended.",
    ),
    url="https://www.pulumi.com/docs/iac/operations/stack-management/drift/",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    assert inputs.declared is not None  # the judge runs DECLARED rules only with the stack's state
    live = inputs.state
    declared_by_target: dict[ResourceRef, set[GrantKey]] = defaultdict(set)
    for grant in inputs.declared.grants:
        if grant.shape.startswith("iam") and not is_unknown(grant.member) and not is_unknown(grant.role):
            declared_by_target[grant.target].add(_key(grant))
    live_by_target: dict[ResourceRef, set[GrantKey]] = defaultdict(set)
    for grant in live.grants:
        if grant.shape.startswith("iam"):
            live_by_target[grant.target].add(_key(grant))
    for target in sorted(declared_by_target):
        if target not in live.iam_complete_targets:
            continue  # not read live (the scan reports that as an error); absence proves nothing
        want, have = declared_by_target[target], live_by_target.get(target, set())
        added = sorted(k for k in have - want
                       if not (k[0] in _LEGACY_ROLES and parse_member(k[1]).kind == "project"))
        removed = sorted(want - have)
        for role, member, condition in added:
            yield rule.finding(
                str(target),
                f"{member} holds {role} on {target.name} live, but the stack does not declare it",
                {"change": "added", "role": role, "member": member, "condition": condition or None},
            )
        for role, member, condition in removed:
            yield rule.finding(
                str(target),
                f"the stack declares {member} with {role} on {target.name}, but it is missing live",
                {"change": "removed", "role": role, "member": member, "condition": condition or None},
            )
