"""Print docs/rules.md, the rule catalogue's reference, from the rules' declarations.

    python -m scripts.rules_doc > docs/rules.md

A test keeps the file equal to this output, so the reference can never say other than the code.
"""

from __future__ import annotations

import sys

from registry_guard.catalogue.rule import Rule, Stage, all_rules

STAGES = {
    Stage.DEPLOY: "deploy time (policy pack)",
    Stage.LIVE: "nightly, live estate",
    Stage.HISTORY: "nightly, against the previous scan",
    Stage.DECLARED: "nightly, against the stack export (`--desired`)",
}

INTRO = """\
# Rule catalogue

<!-- Generated from the rules' declarations by `python -m scripts.rules_doc > docs/rules.md`; a test keeps
it current. Edit the declaration, not this file. -->

The rule ids are the public contract: the policy pack has a policy of each deploy-time id, and the audit
reports findings under the same ids. Each rule is declared once, with its check, in
`policy-pack/registry_guard/catalogue/rules/<id with underscores>.py`; the pack's policies (their resource
type filters, config schemas and remediations), the audit's dispatch and what a report lists as evaluated
all derive from that declaration.

**Adding a rule** touches three files: its module in `catalogue/rules/` (`declare(...)` and the check), its
test module in `tests/catalogue/rules/` (named pass and fail cases for each stage it runs at), and this
reference (regenerate it). A rule that needs a field the model lacks also touches the model and the
sources that fill it.

| id | severity | runs | deploy-time default | title |
|---|---|---|---|---|
"""


def _row(rule: Rule) -> str:
    runs = ", ".join(stage.value for stage in Stage if stage in rule.stages)
    default = rule.enforcement if rule.deploy_time else "-"
    return f"| [`{rule.id}`](#{rule.id}) | {rule.severity} | {runs} | {default} | {rule.title} |\n"


def _section(rule: Rule) -> str:
    lines = [f"## {rule.id}", "", f"**{rule.title}.** {rule.description}", ""]
    lines.append(f"- Severity: {rule.severity}")
    lines.append("- Runs: " + "; ".join(STAGES[stage] for stage in Stage if stage in rule.stages))
    if rule.deploy_time:
        fix = " The `remediate` level applies its fix." if rule.fix else ""
        lines.append(f"- Default enforcement at deploy time: {rule.enforcement}.{fix}")
    lines.append("- Judges: " + ", ".join(sorted(subject.value for subject in rule.subjects)))
    if rule.settings:
        lines.append("- Settings: " + ", ".join(f"`{key}`" for key in rule.settings))
    if rule.frameworks:
        lines.append("- Frameworks: " + "; ".join(
            f"{ref}" + (f" ({ref.title})" if ref.title else "") for ref in rule.frameworks))
    if rule.url:
        lines.append(f"- Reference: {rule.url}")
    lines += ["", "Remediation:", "", *(f"{i}. {step}" for i, step in enumerate(rule.remediation, 1)), ""]
    return "\n".join(lines) + "\n"


def rules_md() -> str:
    rules = list(all_rules().values())
    text = INTRO + "".join(_row(rule) for rule in rules) + "\n" + "".join(_section(rule) for rule in rules)
    return text.rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(rules_md())
