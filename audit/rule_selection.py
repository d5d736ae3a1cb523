"""`--rules` / `--skip-rules`: which rules of the catalogue a run evaluates.

Ids come from the declarations (`registry_guard.catalogue.rule.all_rules`); an unknown id is refused with the
nearest known ones, never ignored (a typo would otherwise turn a rule off in silence). A rule that cannot run
in the command (a deploy-only rule in `scan`, a live-only rule in `check`) is refused too, so the report's
`rules_evaluated` always lists exactly what was asked for and ran.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from registry_guard.catalogue.rule import Rule, Stage, all_rules

# Where each command's rules run.
SCAN_STAGES = frozenset({Stage.LIVE, Stage.HISTORY, Stage.DECLARED})
CHECK_STAGES = frozenset({Stage.DEPLOY})


class RuleSelectionError(ValueError):
    """One line naming the option and the id."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean X?)` for the nearest choice, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def parse_ids(option: str, values: Sequence[str]) -> list[str]:
    """`--rules a,b --rules c` -> [a, b, c], every id known to the catalogue."""
    known = all_rules()
    ids: list[str] = []
    for value in values:
        for part in value.split(","):
            rule_id = part.strip()
            if not rule_id:
                raise RuleSelectionError(f"{option}: empty rule id in {value!r}")
            if rule_id not in known:
                raise RuleSelectionError(f"{option}: unknown rule {rule_id!r}{did_you_mean(rule_id, known)} "
                                         "(`registry-guard rules` lists them)")
            ids.append(rule_id)
    return list(dict.fromkeys(ids))


def select(rules: Sequence[str], skip: Sequence[str], stages: frozenset[Stage], command: str) -> frozenset[str] | None:
    """The ids `command` evaluates, or None for every rule (no selection given)."""
    if not rules and not skip:
        return None
    chosen = parse_ids("--rules", rules)
    skipped = set(parse_ids("--skip-rules", skip))
    catalogue = all_rules()
    for rule_id in chosen:
        if not catalogue[rule_id].stages & stages:
            raise RuleSelectionError(f"--rules: {rule_id} does not run in `{command}` (it runs: "
                                     f"{', '.join(catalogue[rule_id].where)}){_elsewhere(catalogue[rule_id])}")
    runnable = [r.id for r in catalogue.values() if r.stages & stages]
    selected = frozenset(chosen or runnable) - skipped
    if not selected:
        raise RuleSelectionError("--rules/--skip-rules: no rule left to evaluate")
    return selected


def _elsewhere(rule: Rule) -> str:
    if Stage.DEPLOY in rule.stages:
        return "; `registry-guard check` evaluates it"
    return "; `registry-guard scan` evaluates it"


def pack_config_for(config: Mapping[str, Any] | None, selected: frozenset[str] | None) -> dict[str, Any] | None:
    """The `--policy-pack-config` to send with a selection: every deploy-time rule not selected is disabled
    (its settings kept), so the pack evaluates exactly the selected ones."""
    if selected is None:
        return None if config is None else dict(config)
    out = dict(config or {})
    for rule in all_rules().values():
        if Stage.DEPLOY in rule.stages and rule.id not in selected:
            current = out.get(rule.id)
            out[rule.id] = ({**current, "enforcementLevel": "disabled"} if isinstance(current, Mapping)
                            else "disabled")
    return out
