"""Every numbered fixture through the policies as the pack runs them (pulumi_policy's own servicer)."""

from __future__ import annotations

from typing import Any

import pytest
from registry_guard.catalogue.rules import DEPLOY_RULES

from .fixtures import FIXTURES, STACK_FIXTURES, Expected, StackItem
from .harness import Diagnostic, analyze, analyze_stack

CASES = [
    pytest.param(policy, *row, id=f"{policy}-{row[0]:02d}")
    for policy, rows in FIXTURES.items()
    for row in rows
]
STACK_CASES = [
    pytest.param(policy, *row, id=f"{policy}-{row[0]:02d}")
    for policy, rows in STACK_FIXTURES.items()
    for row in rows
]


def _check(policy: str, diagnostics: list[Diagnostic], expected: Expected) -> None:
    mine = [d for d in diagnostics if d.policy == policy]
    if expected is None:
        assert mine == [], f"expected {policy} to pass, got {mine}"
        return
    level, substring = expected
    matching = [d for d in mine if d.level == level and substring in d.message]
    assert matching, f"expected {policy} {level} containing {substring!r}, got {mine}"
    if level == "advisory":
        # an undetermined fixture must never also block: unknowns are reported, not guessed
        assert not [d for d in mine if d.level == "mandatory"], mine


@pytest.mark.parametrize(
    ("policy", "number", "description", "type_token", "props", "config", "expected"), CASES
)
def test_resource_fixture(
    policy: str,
    number: int,
    description: str,
    type_token: str,
    props: dict[str, Any],
    config: dict[str, Any],
    expected: Expected,
) -> None:
    _check(policy, analyze(type_token, props, {policy: config}), expected)


@pytest.mark.parametrize(("policy", "number", "description", "items", "config", "expected"), STACK_CASES)
def test_stack_fixture(
    policy: str,
    number: int,
    description: str,
    items: list[StackItem],
    config: dict[str, Any],
    expected: Expected,
) -> None:
    _check(policy, analyze_stack(items, {policy: config}), expected)


def test_every_deploy_rule_has_a_passing_and_a_failing_fixture() -> None:
    tables = {**FIXTURES, **STACK_FIXTURES}
    for rule in DEPLOY_RULES:
        rows = tables.get(rule.id, [])
        assert any(row[-1] is None for row in rows), f"{rule.id}: no compliant fixture"
        assert any(row[-1] is not None for row in rows), f"{rule.id}: no failing fixture"
        numbers = [row[0] for row in rows]
        assert numbers == sorted(set(numbers)), f"{rule.id}: fixture numbers must be unique and ordered"


def test_violation_message_carries_policy_description() -> None:
    """The SDK prefixes the description; the fixture message is the line after it."""
    from .fixtures import B_BINDING, CR_BUCKET

    diagnostics = analyze(
        B_BINDING,
        {"bucket": CR_BUCKET, "role": "roles/storage.admin", "members": ["user:member-id@example.com"]},
    )
    admin = [d for d in diagnostics if d.policy == "no-broad-admin"]
    assert admin and admin[0].message.startswith("Admin-class roles")


def test_undetermined_never_mandatory_even_when_policy_is() -> None:
    from .fixtures import AR_MEMBER, AR_TARGET, U

    diagnostics = analyze(
        AR_MEMBER,
        {**AR_TARGET, "role": "roles/owner", "member": U},
        {"no-public-access": {"enforcementLevel": "mandatory"}},
    )
    mine = [d for d in diagnostics if d.policy == "no-public-access"]
    assert [d.level for d in mine] == ["advisory"]
    assert ".member" in mine[0].message
