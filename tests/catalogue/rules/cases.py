"""The kinds of case a rule's test module lists in `CASES`, and how each is run.

* `Deploy`: one resource through the real pack process, as the engine sends it (Remediate, then Analyze on
  the remediated properties), with the rule's policy configured as the case says.
* `DeployStack`: a whole stack through the real pack process (each resource, then AnalyzeStack).
* `Live`: a normalized state judged as the nightly audit judges it, at a stage of the rule.

Expectations: `PASSES` (the rule says nothing), `Blocks(says)` (a mandatory violation containing `says`),
`Warns(says)` (an advisory violation), `Finds(says)` (a live finding), `CannotJudge(says)` ("could not
judge", advisory at deploy time and never also blocking).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policy_pack.harness import StackItem
from registry_guard.catalogue.judge import judge
from registry_guard.catalogue.rule import Inputs, Stage

from audit.offline_check.analyzer import PolicyPackClient, Resource, Violation


@dataclass(frozen=True)
class Passes:
    def __repr__(self) -> str:
        return "PASSES"


PASSES = Passes()


@dataclass(frozen=True)
class Blocks:
    says: str


@dataclass(frozen=True)
class Warns:
    says: str


@dataclass(frozen=True)
class Finds:
    says: str


@dataclass(frozen=True)
class CannotJudge:
    says: str


Expect = Passes | Blocks | Warns | Finds | CannotJudge
FAILING = (Blocks, Warns, Finds)


def _urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:dev::model-registry::{type_token}::{name}"


def _run(pack: PolicyPackClient, rule_id: str, config: Mapping[str, Any], resources: list[Resource]) -> list[Violation]:
    pack.configure({rule_id: dict(config)} if config else None)
    try:
        violations, _ = pack.check(resources)
    finally:
        if config:
            pack.configure(None)
    return [v for v in violations if v.policy_name == rule_id]


def _check_violations(rule_id: str, mine: list[Violation], expect: Expect) -> None:
    if isinstance(expect, Passes):
        assert mine == [], f"expected {rule_id} to pass, got {mine}"
        return
    assert not isinstance(expect, Finds), "a deploy-time case blocks, warns or cannot judge"
    level = "mandatory" if isinstance(expect, Blocks) else "advisory"
    matching = [v for v in mine if v.enforcement_level == level and expect.says in v.message]
    if isinstance(expect, CannotJudge):
        matching = [v for v in matching if v.undetermined and "could not judge" in v.message]
    else:
        matching = [v for v in matching if not v.undetermined]
    assert matching, f"expected {rule_id} {expect} at {level}, got {mine}"
    if level == "advisory":
        # An undetermined or advisory case never also blocks: unknowns are reported, not guessed.
        assert not [v for v in mine if v.enforcement_level == "mandatory"], mine


@dataclass(frozen=True)
class Deploy:
    name: str
    type: str
    props: Mapping[str, Any]
    expect: Expect
    config: Mapping[str, Any] = field(default_factory=dict)  # this rule's policy config

    def check(self, rule_id: str, pack: PolicyPackClient) -> None:
        resource = Resource(self.type, "res", _urn(self.type, "res"), dict(self.props))
        _check_violations(rule_id, _run(pack, rule_id, self.config, [resource]), self.expect)


@dataclass(frozen=True)
class DeployStack:
    name: str
    resources: Sequence[StackItem]
    expect: Expect
    config: Mapping[str, Any] = field(default_factory=dict)

    def check(self, rule_id: str, pack: PolicyPackClient) -> None:
        urns = {item.name: _urn(item.type, item.name) for item in self.resources}
        resources = [
            Resource(item.type, item.name, urns[item.name], dict(item.props),
                     dependencies=tuple(sorted({urns[d] for ds in (item.property_dependencies or {}).values()
                                                for d in ds})),
                     property_dependencies={k: tuple(urns[d] for d in v)
                                            for k, v in (item.property_dependencies or {}).items()})
            for item in self.resources
        ]
        _check_violations(rule_id, _run(pack, rule_id, self.config, resources), self.expect)


@dataclass(frozen=True)
class Live:
    name: str
    inputs: Inputs
    expect: Expect
    stage: Stage = Stage.LIVE

    def check(self, rule_id: str, pack: PolicyPackClient) -> None:
        judged = judge(self.inputs, self.stage, [rule_id])
        assert judged.evaluated == (rule_id,), judged.evaluated
        if isinstance(self.expect, Passes):
            assert judged.findings == () and judged.undetermined == (), judged
        elif isinstance(self.expect, CannotJudge):
            assert any(self.expect.says in u.reason for u in judged.undetermined), judged
        else:
            assert any(self.expect.says in f.message for f in judged.findings), judged


Case = Deploy | DeployStack | Live


def fails(case: Case) -> bool:
    return isinstance(case.expect, FAILING)


def cases_of_every_rule() -> dict[str, list[Case]]:
    """rule id -> the CASES of its test module, for tests that run every case another way."""
    from registry_guard.catalogue.rule import all_rules

    return {
        rule_id: list(importlib.import_module(f"{__package__}.test_{rule_id.replace('-', '_')}").CASES)
        for rule_id in all_rules()
    }


def deploy_cases() -> list[tuple[str, Deploy]]:
    """(rule id, case) for every one-resource deploy-time case of the catalogue."""
    return [(rule_id, case) for rule_id, cases in cases_of_every_rule().items() for case in cases
            if isinstance(case, Deploy)]


def stack_cases() -> list[tuple[str, DeployStack]]:
    """(rule id, case) for every whole-stack deploy-time case of the catalogue."""
    return [(rule_id, case) for rule_id, cases in cases_of_every_rule().items() for case in cases
            if isinstance(case, DeployStack)]
