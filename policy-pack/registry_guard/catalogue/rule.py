"""How a rule is declared: once, as named metadata plus its check, in a module of `catalogue/rules/`.

    @declare(
        id="example-rule", title="What holds when it passes", severity="high", enforcement="mandatory",
        stages=(Stage.DEPLOY, Stage.LIVE), subjects=(Subject.REPOSITORY,), settings=("requiredLabels",),
        description="...", remediation=("...",), frameworks=(...,), url="https://...",
    )
    def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
        for repo in inputs.state.repositories:
            ...
            yield rule.finding(str(repo.ref), "what is wrong, named", {...evidence})

The declaration registers itself (as a Checkov check does); everything else is derived from it: the
pack's policies with their resource-type filters, config schemas and remediations, the judge's dispatch,
the report's metadata and what a scan says it evaluated. Metadata is keyword-only and validated here,
when the module is imported, so a malformed rule fails the import rather than a scan.
"""

from __future__ import annotations

import enum
import functools
import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal

from .findings import Finding, Undetermined
from .frameworks import FrameworkRef
from .model import RegistryState, Subject
from .settings import SETTINGS_SCHEMA, Settings
from .severity import SEVERITIES, Severity

Enforcement = Literal["advisory", "mandatory", "remediate", "disabled"]
ENFORCEMENT_LEVELS: Final[tuple[Enforcement, ...]] = ("advisory", "mandatory", "remediate", "disabled")

# Lowercase words joined by single hyphens: the ids are the public contract, and a policy name.
RULE_ID_PATTERN: Final = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
_RULE_ID: Final = re.compile(RULE_ID_PATTERN)
_MAX_ID_LENGTH: Final = 64


class Stage(enum.Enum):
    """Where a rule runs."""

    DEPLOY = "deploy"  # the policy pack, on each resource (or the whole stack) of a preview or update
    LIVE = "live"  # the nightly audit, on the live estate
    HISTORY = "history"  # the nightly audit, the live estate against an earlier scan's inventory
    DECLARED = "declared"  # the nightly audit, the live estate against the stack's declared state


@dataclass(frozen=True)
class Inputs:
    """What a check may read. `state` is the estate being judged (one resource's worth at deploy time);
    `previous` and `declared` are there for the HISTORY and DECLARED stages. `unread` names what the
    scan could not read completely (a repository, or `repository/package`): absences there prove nothing."""

    state: RegistryState
    settings: Settings = field(default_factory=Settings)
    previous: RegistryState | None = None
    declared: RegistryState | None = None
    unread: frozenset[str] = frozenset()


Result = Finding | Undetermined
Check = Callable[["Rule", Inputs], Iterable[Result]]
# A deploy-time fix: (resource type, a plain copy of its properties) -> the fixed properties, or None
# when there is nothing to change. It may only tighten what it is certain of.
Fix = Callable[[str, dict[str, Any]], dict[str, Any] | None]


class RuleDeclarationError(TypeError):
    """A rule's declaration is malformed; raised when its module is imported."""


@dataclass(frozen=True, eq=False)
class Rule:
    """One rule: its metadata, its check, and where it was declared. Build with `declare`."""

    id: str
    title: str
    severity: Severity
    stages: frozenset[Stage]
    subjects: frozenset[Subject]
    description: str
    remediation: tuple[str, ...]
    check: Check
    # The default enforcement level at deploy time; "disabled" for rules that never run there.
    enforcement: Enforcement = "disabled"
    settings: tuple[str, ...] = ()  # the SETTINGS_SCHEMA keys the check reads
    frameworks: tuple[FrameworkRef, ...] = ()
    url: str = ""
    tags: tuple[str, ...] = ()
    fix: Fix | None = None
    # Judged over every resource of a stack at once (a path through several resources), at deploy time.
    across_stack: bool = False
    module: str = ""  # the module that declares it

    @property
    def deploy_time(self) -> bool:
        return Stage.DEPLOY in self.stages

    @property
    def whole_stack(self) -> bool:
        """Judged across every resource of a stack at once (the pack's stack policy), not one by one."""
        return self.across_stack or any(subject.whole_stack for subject in self.subjects)

    @property
    def where(self) -> tuple[str, ...]:
        return tuple(sorted(stage.value for stage in self.stages))

    def finding(
        self, resource: str, message: str, evidence: Mapping[str, Any] | None = None, *, blocks: bool = True
    ) -> Finding:
        return Finding(self.id, resource, message, {} if evidence is None else evidence, blocks=blocks)

    def undetermined(self, resource: str, reason: str) -> Undetermined:
        return Undetermined(self.id, resource, reason)

    def __repr__(self) -> str:
        return f"Rule({self.id!r})"


_DECLARED: dict[str, Rule] = {}


def declare(
    *,
    id: str,
    title: str,
    severity: Severity,
    stages: Iterable[Stage],
    subjects: Iterable[Subject],
    description: str,
    remediation: Iterable[str],
    enforcement: Enforcement | None = None,
    settings: Iterable[str] = (),
    frameworks: Iterable[FrameworkRef] = (),
    url: str = "",
    tags: Iterable[str] = (),
    fix: Fix | None = None,
    across_stack: bool = False,
) -> Callable[[Check], Check]:
    """Declare the rule `check` implements, and register it. See the module docstring."""

    def register(check: Check) -> Check:
        rule = Rule(
            id=id, title=title, severity=severity, stages=frozenset(stages), subjects=frozenset(subjects),
            description=description, remediation=tuple(remediation), check=check,
            enforcement=enforcement or "disabled", settings=tuple(settings), frameworks=tuple(frameworks),
            url=url, tags=tuple(tags), fix=fix, across_stack=across_stack, module=getattr(check, "__module__", ""),
        )
        _validate(rule, enforcement)
        if rule.id in _DECLARED:
            raise RuleDeclarationError(f"{rule.id}: declared twice ({_DECLARED[rule.id].module}, {rule.module})")
        _DECLARED[rule.id] = rule
        return check

    return register


def _validate(rule: Rule, enforcement: Enforcement | None) -> None:
    def fail(problem: str) -> None:
        raise RuleDeclarationError(f"rule {rule.id!r}: {problem}")

    if not isinstance(rule.id, str) or not _RULE_ID.match(rule.id) or len(rule.id) > _MAX_ID_LENGTH:
        fail(f"the id must be lowercase words joined by hyphens (at most {_MAX_ID_LENGTH} characters)")
    if not rule.title.strip() or not rule.description.strip():
        fail("a title and a description are required")
    if rule.severity not in SEVERITIES:
        fail(f"severity must be one of {', '.join(SEVERITIES)}")
    if not rule.stages or not all(isinstance(s, Stage) for s in rule.stages):
        fail("stages must name at least one Stage")
    if not rule.subjects or not all(isinstance(s, Subject) for s in rule.subjects):
        fail("subjects must name at least one Subject")
    if not rule.remediation or not all(isinstance(s, str) and s.strip() for s in rule.remediation):
        fail("remediation needs at least one non-empty step")
    unknown = [key for key in rule.settings if key not in SETTINGS_SCHEMA]
    if unknown:
        fail(f"unknown settings {unknown}; known: {', '.join(SETTINGS_SCHEMA)}")
    if not all(isinstance(f, FrameworkRef) for f in rule.frameworks):
        fail("frameworks must be FrameworkRef")
    if rule.url and not rule.url.startswith("https://"):
        fail("url must be https")
    if rule.deploy_time:
        if enforcement not in ENFORCEMENT_LEVELS or enforcement == "disabled":
            fail("a deploy-time rule needs its default enforcement: advisory, mandatory or remediate")
    elif enforcement is not None or rule.fix is not None:
        fail("enforcement and fix only mean something for a rule with Stage.DEPLOY")
    if rule.across_stack and not rule.deploy_time:
        fail("across_stack is a deploy-time scope: the stack policy judges every resource at once")
    if rule.whole_stack and rule.fix is not None:
        fail("a whole-stack rule cannot fix one resource")
    if not callable(rule.check):
        fail("the check must be callable")


@functools.cache
def all_rules() -> Mapping[str, Rule]:
    """Every declared rule, by id, in id order. Importing `catalogue.rules` imports (and so declares)
    every rule module in it."""
    importlib.import_module(f"{__package__}.rules")
    return MappingProxyType(dict(sorted(_DECLARED.items())))


def rule(rule_id: str) -> Rule:
    """The rule with this id; KeyError names it when there is none."""
    return all_rules()[rule_id]


@functools.cache
def rules_at(stage: Stage) -> tuple[Rule, ...]:
    return tuple(r for r in all_rules().values() if stage in r.stages)
