"""One CrossGuard policy per deploy-time rule of the catalogue, derived from its declaration.

Each policy is named by the rule's id and carries its metadata (severity, default enforcement, description,
remediation steps, framework, url, tags), a config schema for the settings it reads, a filter for the
resource types whose model holds its subjects, and its fix as a remediation. It judges through the
catalogue's judge for its own rule only. A rule whose subjects are judged across the whole stack becomes
a stack policy.

Undetermined results (a preview-time unknown the rule needs, an image whose tags are computed): the policy
first reports every violation it can prove, then raises `NotJudged`, a subclass of pulumi_policy's
`UnknownValueError`. The SDK turns that into a diagnostic at ADVISORY level whatever the policy's level
("can't run policy '<id>' ... during preview: could not judge <what>: <why>"), so an unknown is always
reported, never passed silently, and never blocks a preview on a guess.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from ..catalogue.findings import Finding, Undetermined
from ..catalogue.judge import judge_rule
from ..catalogue.model import RegistryState
from ..catalogue.rule import Inputs, Rule, Stage, rules_at
from ..catalogue.settings import Settings, SettingsError
from ..catalogue.waivers import Waiver, weigh
from ..pulumi_properties.adapt import Adapted, adapt
from ..pulumi_properties.declarations import StackResource, stack_state
from ..pulumi_properties.reader import SENTINELS, PropertyReader
from ..pulumi_properties.types import types_yielding
from .config import config_schema, settings_from_config, waivers_from_config
from .remediation import remediation


class NotJudged(UnknownValueError):
    """Raised after all provable violations are reported: the rest of the rule could not be judged."""

    def __init__(self, rule_id: str, reasons: Sequence[str]) -> None:
        super().__init__(UNKNOWN_STRING_VALUE, [])
        self.rule_id = rule_id
        self.reasons = tuple(reasons)
        self.message = f"could not judge {rule_id}: " + "; ".join(dict.fromkeys(reasons))


@functools.cache
def resource_types() -> Mapping[str, frozenset[str]]:
    """Per resource policy, the resource types it can judge, from the subjects its rule declares. The SDK
    calls every policy for every resource and decodes its properties each time; skipping the types a rule
    cannot judge saves most of that. A type outside the set yields nothing of the rule's subjects, so
    nothing is lost (tests/policy_pack/test_rule_types.py)."""
    return {rule.id: types_yielding(rule.subjects) for rule in rules_at(Stage.DEPLOY) if not rule.whole_stack}


def _framework(rule: Rule) -> PolicyComplianceFramework | None:
    if not rule.frameworks:
        return None
    ref = rule.frameworks[0]
    return PolicyComplianceFramework(
        name=ref.name, version=ref.version, reference=ref.reference, specification=ref.title or None
    )


def _metadata(rule: Rule) -> dict[str, Any]:
    return {
        "description": rule.description,
        "enforcement_level": EnforcementLevel(rule.enforcement),
        "config_schema": config_schema(rule),
        "display_name": rule.title,
        "severity": Severity(rule.severity),
        "framework": _framework(rule),
        "tags": ["gcp", "model-registry", *rule.tags],
        "remediation_steps": "\n".join(f"{i}. {step}" for i, step in enumerate(rule.remediation, 1)),
        "url": rule.url or None,
    }


def _settings(
    rule: Rule, config: Any, report_violation: ReportViolation, urn: str | None
) -> tuple[Settings, tuple[Waiver, ...]] | None:
    try:
        return settings_from_config(config), waivers_from_config(rule, config)
    except SettingsError as exc:
        report_violation(f"invalid policy configuration: {exc}", urn)
        return None


def _violation(finding: Finding, waivers: Sequence[Waiver], report_violation: ReportViolation, urn: str | None,
               message: str | None = None) -> None:
    """Report one finding: at the policy's level, or advisory when it takes no effect as configured or an
    active waiver accepts it (servicer.py's reporter has `.advisory`; without it, it blocks)."""
    advisory = getattr(report_violation, "advisory", report_violation)
    verdict = weigh(finding, waivers, datetime.now(UTC).date())
    text = finding.message if message is None else message
    if verdict.accepted_by is not None:
        waiver = verdict.accepted_by
        advisory(f"{text} [accepted risk until {waiver.expires.isoformat()}, owner {waiver.owner}: "
                 f"{waiver.justification}]", urn)
    elif verdict.expired is not None:
        (report_violation if finding.blocks else advisory)(
            f"{text} [its waiver expired on {verdict.expired.expires.isoformat()}]", urn)
    else:
        (report_violation if finding.blocks else advisory)(text, urn)


def _provider_project(args: ResourceValidationArgs) -> str | None:
    if args.provider is None:
        return None
    project = PropertyReader().read(args.provider.props, "project", ".project")
    return project if isinstance(project, str) and project not in SENTINELS else None


def _report(
    rule: Rule,
    findings: Iterable[Finding],
    undetermined: Iterable[Undetermined],
    unknown_paths: Sequence[str],
    waivers: Sequence[Waiver],
    report_violation: ReportViolation,
    urn: str | None,
) -> None:
    for finding in findings:
        _violation(finding, waivers, report_violation, urn)
    reasons = [f"{u.resource}: {u.reason}" for u in undetermined]
    if reasons:
        if unknown_paths:
            reasons.append("unknown at preview: " + ", ".join(dict.fromkeys(unknown_paths)))
        raise NotJudged(rule.id, reasons)


class _SharedAdaptation(threading.local):
    """Per server thread: inside `shared_adaptation()`, the resource adapted last and the result; inside
    `shared_stack_state()`, the stack adapted last (by its URNs) and its state."""

    active = False
    key: tuple[Any, ...] = ()
    adapted: Adapted | None = None
    stack_active = False
    stack_key: tuple[str, ...] = ()
    stack: RegistryState | None = None


_SHARED = _SharedAdaptation()


@contextlib.contextmanager
def shared_adaptation() -> Iterator[None]:
    """Let every policy judging one request reuse one adaptation of its properties.

    The pack's servicer (`servicer.py`) decodes a request once and hands every policy the same `props`
    object, so the five repository rules need not adapt it five times. Scoped to one request on purpose:
    outside it (the SDK's servicer, direct calls in tests) nothing is cached, so a reused or mutated
    dict can never be judged from a stale adaptation."""
    _SHARED.active, _SHARED.key, _SHARED.adapted = True, (), None
    try:
        yield
    finally:
        _SHARED.active, _SHARED.key, _SHARED.adapted = False, (), None


@contextlib.contextmanager
def shared_stack_state() -> Iterator[None]:
    """Let every stack policy judging one AnalyzeStack request reuse one adaptation of the stack. Scoped to the
    request: the SDK decodes the resources again for each policy, but within one request they are the same."""
    _SHARED.stack_active, _SHARED.stack_key, _SHARED.stack = True, (), None
    try:
        yield
    finally:
        _SHARED.stack_active, _SHARED.stack_key, _SHARED.stack = False, (), None


@functools.cache
def _stack_types() -> frozenset[str]:
    """The resource types whose model the rules judged across the stack read: only those are adapted."""
    subjects = {s for rule in rules_at(Stage.DEPLOY) if rule.whole_stack for s in rule.subjects}
    return types_yielding(subjects)


def _stack_state(resources: Sequence[PolicyResource]) -> RegistryState:
    key = tuple(r.urn for r in resources)
    if _SHARED.stack_active and _SHARED.stack is not None and _SHARED.stack_key == key:
        return _SHARED.stack
    state = stack_state((_stack_resource(r) for r in resources), types=_stack_types())
    if _SHARED.stack_active:
        _SHARED.stack_key, _SHARED.stack = key, state
    return state


def _adapt(args: ResourceValidationArgs) -> Adapted | None:
    project = _provider_project(args)
    if not _SHARED.active:
        return adapt(args.resource_type, args.props, args.urn, args.name, project)
    key = (args.props, args.resource_type, args.urn, args.name, project)
    if _SHARED.key and _SHARED.key[0] is key[0] and _SHARED.key[1:] == key[1:]:
        return _SHARED.adapted
    adapted = adapt(args.resource_type, args.props, args.urn, args.name, project)
    _SHARED.key, _SHARED.adapted = key, adapted
    return adapted


def _resource_validate(rule: Rule, types: frozenset[str]) -> Any:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        configured = _settings(rule, args.get_config(), report_violation, args.urn or None)
        if configured is None:
            return
        settings, waivers = configured
        adapted = _adapt(args)
        if adapted is None:
            return
        judgement = judge_rule(rule, Inputs(adapted.state, settings))
        _report(rule, judgement.findings, judgement.undetermined, adapted.unknown_paths, waivers, report_violation,
                args.urn or None)

    validate.__name__ = f"validate_{rule.id.replace('-', '_')}"
    return validate


def _stack_resource(resource: PolicyResource, depth: int = 1) -> StackResource:
    deps = {}
    if depth > 0:
        deps = {
            key: tuple(_stack_resource(d, depth - 1) for d in values)
            for key, values in resource.property_dependencies.items()
        }
    return StackResource(resource.resource_type, resource.props, resource.urn, resource.name, deps)


def _short(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _stack_validate(rule: Rule) -> Any:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        """Adapt every resource of the stack into one state and judge it at once. A finding across the stack
        names several resources (evidence `resources`): reported at the first, naming them all."""
        configured = _settings(rule, args.get_config(), report_violation, None)
        if configured is None:
            return
        settings, waivers = configured
        state = _stack_state(args.resources)
        judgement = judge_rule(rule, Inputs(state, settings))
        for finding in judgement.findings:
            resources = sorted(finding.evidence.get("resources", ()))
            message = f"{finding.message} (resources: {', '.join(_short(u) for u in resources)})"
            _violation(finding, waivers, report_violation, resources[0] if resources else None, message)
        if judgement.undetermined:
            raise NotJudged(rule.id, [f"{_short(u.resource)}: {u.reason}" for u in judgement.undetermined])

    validate.__name__ = f"validate_{rule.id.replace('-', '_')}"
    return validate


def policy_of(rule: Rule) -> Policy:
    """The CrossGuard policy a deploy-time rule becomes."""
    if rule.whole_stack:
        return StackValidationPolicy(name=rule.id, validate=_stack_validate(rule), **_metadata(rule))
    types = resource_types()[rule.id]
    return ResourceValidationPolicy(
        name=rule.id,
        validate=_resource_validate(rule, types),
        # A plain (non-awaitable) return works in the SDK too; its annotation only names the async form.
        remediate=remediation(rule.fix, types) if rule.fix else None,
        **_metadata(rule),
    )


def all_policies() -> list[Policy]:
    """Every deploy-time rule, in catalogue order."""
    return [policy_of(rule) for rule in rules_at(Stage.DEPLOY)]
