"""The catalogue as a whole: every rule declared once, validated when declared, tested by its own module,
and named by its id in exactly one source file."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from registry_guard.catalogue import rules as rules_package
from registry_guard.catalogue.judge import judge
from registry_guard.catalogue.model import RegistryState, Subject
from registry_guard.catalogue.rule import Inputs, RuleDeclarationError, Stage, all_rules, declare, rules_at

from .rules import cases as case_kinds
from .rules.cases import cases_of_every_rule, fails

ROOT = Path(__file__).resolve().parents[2]
TEST_DIR = Path(__file__).parent / "rules"


def test_every_rule_module_declares_exactly_one_rule_with_its_own_check() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(rules_package.__path__))
    declared_in = Counter(rule.module.rsplit(".", 1)[-1] for rule in all_rules().values())
    assert declared_in == Counter(modules), "each module of catalogue/rules declares one rule, and only there"
    for rule in all_rules().values():
        assert rule.module.rsplit(".", 1)[-1] == rule.id.replace("-", "_"), f"{rule.id}: module named after it"
        assert rule.check.__module__ == rule.module, f"{rule.id}: its check is in its own module"
    assert len({id(rule.check) for rule in all_rules().values()}) == len(all_rules()), "no check is shared"


def test_every_rule_has_a_test_module_with_a_passing_and_a_failing_case() -> None:
    cases = cases_of_every_rule()
    test_modules = {p.stem.removeprefix("test_").replace("_", "-") for p in TEST_DIR.glob("test_*.py")}
    assert test_modules == set(all_rules()), "one test module per rule, and none for a rule that does not exist"
    for rule_id, rule_cases in cases.items():
        assert any(isinstance(c.expect, case_kinds.Passes) for c in rule_cases), f"{rule_id}: no passing case"
        assert any(fails(c) for c in rule_cases), f"{rule_id}: no failing case"
        names = [c.name for c in rule_cases]
        assert len(names) == len(set(names)), f"{rule_id}: case names must be unique"


def test_every_rule_is_tested_at_each_of_its_stages() -> None:
    """A rule that runs at deploy time has deploy cases; one that runs at night has live cases."""
    for rule_id, rule_cases in cases_of_every_rule().items():
        rule = all_rules()[rule_id]
        kinds = {type(c) for c in rule_cases}
        if rule.deploy_time:
            assert kinds & {case_kinds.Deploy, case_kinds.DeployStack}, f"{rule_id}: no deploy-time case"
        live_stages = rule.stages - {Stage.DEPLOY}
        for stage in live_stages:
            assert any(isinstance(c, case_kinds.Live) and c.stage is stage for c in rule_cases), (
                f"{rule_id}: no case at stage {stage.value}")


def test_judge_says_which_rules_ran() -> None:
    empty = RegistryState()
    for stage in (Stage.DEPLOY, Stage.LIVE):
        assert judge(Inputs(empty), stage).evaluated == tuple(r.id for r in rules_at(stage))
    assert judge(Inputs(empty), Stage.LIVE, ["no-public-access", "not-a-rule"]).evaluated == ("no-public-access",)
    assert judge(Inputs(empty, previous=empty), Stage.HISTORY).evaluated == tuple(r.id for r in rules_at(Stage.HISTORY))
    with pytest.raises(ValueError, match="previous scan"):
        judge(Inputs(empty), Stage.HISTORY)
    with pytest.raises(ValueError, match="declared state"):
        judge(Inputs(empty), Stage.DECLARED)


# --- declarations are validated when declared --------------------------------------------------------------

VALID: dict[str, Any] = {
    "id": "example-rule", "title": "An example", "severity": "low", "enforcement": "advisory",
    "stages": (Stage.DEPLOY, Stage.LIVE), "subjects": (Subject.REPOSITORY,), "description": "Says what it checks.",
    "remediation": ("Do the thing.",),
}


def _check(rule: Any, inputs: Inputs) -> list[Any]:
    return []


@pytest.mark.parametrize(("change", "problem"), [
    ({"id": "Example_Rule"}, "lowercase words joined by hyphens"),
    ({"id": "example--rule"}, "lowercase words joined by hyphens"),
    ({"id": "x" * 65}, "at most 64"),
    ({"severity": "info"}, "severity must be one of low, medium, high, critical"),
    ({"remediation": ()}, "remediation needs at least one non-empty step"),
    ({"remediation": ("  ",)}, "remediation needs at least one non-empty step"),
    ({"title": ""}, "a title and a description are required"),
    ({"stages": ()}, "stages must name at least one Stage"),
    ({"subjects": ("repository",)}, "subjects must name at least one Subject"),
    ({"settings": ("allowedAdmin",)}, "unknown settings"),
    ({"enforcement": None}, "a deploy-time rule needs its default enforcement"),
    ({"enforcement": "disabled"}, "a deploy-time rule needs its default enforcement"),
    ({"stages": (Stage.LIVE,)}, "enforcement and fix only mean something for a rule with Stage.DEPLOY"),
    ({"url": "http://example.com"}, "url must be https"),
    ({"id": "no-public-access"}, "declared twice"),
])
def test_a_malformed_declaration_fails_when_declared(change: dict[str, Any], problem: str) -> None:
    before = dict(all_rules())
    with pytest.raises(RuleDeclarationError, match=re.escape(problem)):
        declare(**{**VALID, **change})(_check)
    assert dict(all_rules()) == before


def test_metadata_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        declare("example-rule", "An example")  # type: ignore[misc]


# --- one source of truth for rule ids ---------------------------------------------------------------------

SOURCE_SUFFIXES = (".py", ".json", ".yaml", ".yml", ".toml", ".sh", ".go", ".html", ".js", ".txt")


def _source_files() -> list[Path]:
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / f for f in tracked if f.endswith(SOURCE_SUFFIXES) and not f.startswith(("tests/", "docs/"))
            and (ROOT / f).is_file()]


def test_each_rule_id_is_written_in_exactly_one_source_file() -> None:
    """Everything else derives from the declaration; a second literal would be a second place to keep."""
    texts = {path: path.read_text(errors="replace") for path in _source_files()}
    for rule_id in all_rules():
        literal = re.compile(rf"[\"']{re.escape(rule_id)}[\"']")
        where = sorted(str(path.relative_to(ROOT)) for path, text in texts.items() if literal.search(text))
        assert where == [f"policy-pack/registry_guard/catalogue/rules/{rule_id.replace('-', '_')}.py"], (rule_id, where)


def test_the_catalogue_imports_on_its_own() -> None:
    """Each rule module imports cleanly by itself (its declaration does not lean on import order)."""
    for module in pkgutil.iter_modules(rules_package.__path__):
        importlib.import_module(f"{rules_package.__name__}.{module.name}")


def test_the_reference_is_generated_from_the_declarations() -> None:
    from scripts.rules_doc import rules_md

    assert (ROOT / "docs" / "rules.md").read_text() == rules_md(), (
        "docs/rules.md is stale: python -m scripts.rules_doc > docs/rules.md")


def test_the_catalogue_and_the_scan_load_without_pulumi() -> None:
    """The nightly scan starts a process per run: loading the catalogue must not load pulumi_policy (and with
    it the Pulumi runtime and gRPC), which only the pack and `--desired` need."""
    code = ("import sys, audit.cli, audit.scan\n"
            "from registry_guard.catalogue.rule import all_rules\nall_rules()\n"
            "print(sorted(m for m in ('pulumi', 'pulumi_policy', 'grpc') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
