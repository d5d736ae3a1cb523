"""The pack skips resource types a rule cannot judge (for speed); prove nothing is skipped that matters."""

from __future__ import annotations

import pytest
from registry_guard.catalogue.judge import judge
from registry_guard.catalogue.rules import DEPLOY_RULES
from registry_guard.catalogue.settings import Settings
from registry_guard.pack.policies import RULE_TYPES
from registry_guard.pulumi_properties.adapter import adapt

from .fixtures import FIXTURES

ALL_FIXTURE_RESOURCES = [(rtype, props) for rows in FIXTURES.values() for _, _, rtype, props, _, _ in rows]


def test_every_resource_rule_has_a_type_set() -> None:
    resource_rules = {r.id for r in DEPLOY_RULES} - {"iam-authoritative-conflict"}
    assert set(RULE_TYPES) == resource_rules


@pytest.mark.parametrize("rule_id", sorted(RULE_TYPES))
def test_other_types_never_produce_a_result_for_the_rule(rule_id: str) -> None:
    """Every fixture resource of every policy, judged for `rule_id`: a type outside the rule's set
    yields no finding, no adapter problem and nothing undetermined for it."""
    checked = 0
    for rtype, props in ALL_FIXTURE_RESOURCES:
        if rtype in RULE_TYPES[rule_id]:
            continue
        adapted = adapt(rtype, props, "urn:x", "x")
        if adapted is None:
            continue
        judged = judge(adapted.state, Settings(), [rule_id])
        results = [*judged.findings, *judged.undetermined, *adapted.problems, *adapted.undetermined]
        assert [r for r in results if r.rule_id == rule_id] == [], (rtype, props)
        checked += 1
    assert checked > 20
