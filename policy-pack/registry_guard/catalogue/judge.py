"""Judge with the catalogue: the one entry point the policy pack and the audit both call.

`judge` runs the rules declared for a stage and says which ones ran (`evaluated`), so a report lists
the checks that actually judged the estate, never merely the ones the catalogue knows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .findings import Finding, Undetermined
from .rule import Inputs, Rule, Stage, rules_at


@dataclass(frozen=True)
class Judgement:
    findings: tuple[Finding, ...] = ()
    undetermined: tuple[Undetermined, ...] = ()
    evaluated: tuple[str, ...] = ()  # ids of the rules that ran, in catalogue order

    def __add__(self, other: Judgement) -> Judgement:
        return Judgement(self.findings + other.findings, self.undetermined + other.undetermined,
                         self.evaluated + tuple(r for r in other.evaluated if r not in self.evaluated))


def judge_rule(rule: Rule, inputs: Inputs) -> Judgement:
    """One rule on `inputs`. What a source could not read about the rule's subjects comes first: as a
    finding where it fails closed, else as "could not judge"."""
    findings: list[Finding] = []
    undetermined: list[Undetermined] = []
    for unjudged in inputs.state.unjudged:
        if unjudged.subject in rule.subjects:
            if unjudged.fails_closed:
                findings.append(rule.finding(unjudged.resource, unjudged.reason, unjudged.evidence))
            else:
                undetermined.append(rule.undetermined(unjudged.resource, unjudged.reason))
    for result in rule.check(rule, inputs):
        if isinstance(result, Finding):
            findings.append(result)
        else:
            undetermined.append(result)
    return Judgement(tuple(findings), tuple(undetermined), (rule.id,))


def judge(inputs: Inputs, stage: Stage, rule_ids: Iterable[str] | None = None) -> Judgement:
    """Every rule of `stage` (or those of them named in `rule_ids`) on `inputs`."""
    if stage is Stage.HISTORY and inputs.previous is None:
        raise ValueError("the history rules need the previous scan's state (inputs.previous)")
    if stage is Stage.DECLARED and inputs.declared is None:
        raise ValueError("the drift rules need the stack's declared state (inputs.declared)")
    wanted = None if rule_ids is None else set(rule_ids)
    judgement = Judgement()
    for rule in rules_at(stage):
        if wanted is None or rule.id in wanted:
            judgement += judge_rule(rule, inputs)
    return judgement
