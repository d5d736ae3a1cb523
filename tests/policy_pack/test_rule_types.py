"""The pack skips resource types a rule cannot judge (for speed); prove nothing is skipped that matters."""

from __future__ import annotations

import pytest
from catalogue.rules.cases import deploy_cases
from registry_guard.catalogue.judge import judge_rule
from registry_guard.catalogue.rule import Inputs, Stage, rule, rules_at
from registry_guard.pack.policies import resource_types
from registry_guard.pulumi_properties.adapt import adapt

ALL_CASE_RESOURCES = [(case.type, case.props) for _, case in deploy_cases()]


def test_every_resource_rule_has_a_type_set() -> None:
    assert set(resource_types()) == {r.id for r in rules_at(Stage.DEPLOY) if not r.whole_stack}
    assert all(resource_types().values())


@pytest.mark.parametrize("rule_id", sorted(resource_types()))
def test_other_types_never_produce_a_result_for_the_rule(rule_id: str) -> None:
    """Every case resource of every rule, judged for `rule_id`: a type outside the rule's set yields no
    finding and nothing undetermined for it."""
    checked = 0
    for rtype, props in ALL_CASE_RESOURCES:
        if rtype in resource_types()[rule_id]:
            continue
        adapted = adapt(rtype, props, "urn:x", "x")
        if adapted is None:
            continue
        judged = judge_rule(rule(rule_id), Inputs(adapted.state))
        assert judged.findings == () and judged.undetermined == (), (rtype, props)
        checked += 1
    assert checked > 20
