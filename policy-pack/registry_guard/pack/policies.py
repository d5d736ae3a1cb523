"""One CrossGuard policy per deploy-time rule of the catalogue, named exactly by the rule's id.

Every policy carries the catalogue's metadata (severity, default enforcement, description, remediation
steps, framework, url, tags) and judges through `registry_guard.catalogue.judge` for its own rule only.

Undetermined results (a preview-time unknown the rule needs, an image whose tags are computed): the policy
first reports every violation it can prove, then raises `NotJudged`, a subclass of pulumi_policy's
`UnknownValueError`. The SDK turns that into a diagnostic at ADVISORY level whatever the policy's level
("can't run policy '<id>' ... during preview: could not judge <what>: <why>"), so an unknown is always
reported, never passed silently, and never blocks a preview on a guess.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

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

from registry_guard.catalogue.findings import Finding, Undetermined
from registry_guard.catalogue.judge import judge
from registry_guard.catalogue.model import IamDeclaration, RegistryState
from registry_guard.catalogue.rules import DEPLOY_RULES, Rule
from registry_guard.catalogue.settings import Settings, SettingsError
from registry_guard.pulumi_properties.adapter import (
    ACL_TYPES,
    BUCKET,
    CONTAINER_REGISTRY,
    IAM_TYPES,
    IMAGE_TYPES,
    REPOSITORY_TYPES,
    SENTINELS,
    Adapted,
    StackResource,
    _Reader,
    adapt,
    iam_declarations,
)

from .config import config_schema, settings_from_config
from .remediation import REMEDIATIONS

STACK_RULES: Final = frozenset({"iam-authoritative-conflict"})

_TAGS: Final[dict[str, tuple[str, ...]]] = {
    "no-public-access": ("iam", "acl", "public-access"),
    "no-broad-admin": ("iam", "least-privilege"),
    "no-personal-writers": ("iam", "least-privilege"),
    "iam-authoritative-conflict": ("iam",),
    "immutable-tags": ("artifact-registry", "supply-chain"),
    "version-tag-required": ("images", "versioning"),
    "cleanup-keeps-versions": ("artifact-registry", "retention"),
    "vulnerability-scanning": ("artifact-registry", "vulnerability"),
    "customer-managed-encryption": ("artifact-registry", "encryption"),
    "required-labels": ("artifact-registry", "tagging"),
    "legacy-gcr": ("container-registry", "deprecation"),
    "bucket-hardening": ("storage", "public-access"),
}


class NotJudged(UnknownValueError):
    """Raised after all provable violations are reported: the rest of the rule could not be judged."""

    def __init__(self, rule_id: str, reasons: Sequence[str]) -> None:
        super().__init__(UNKNOWN_STRING_VALUE, [])
        self.rule_id = rule_id
        self.reasons = tuple(reasons)
        self.message = f"could not judge {rule_id}: " + "; ".join(dict.fromkeys(reasons))


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
        "config_schema": config_schema(rule.id),
        "display_name": rule.title,
        "severity": Severity(rule.severity),
        "framework": _framework(rule),
        "tags": ["gcp", "model-registry", *_TAGS.get(rule.id, ())],
        "remediation_steps": "\n".join(f"{i}. {step}" for i, step in enumerate(rule.remediation, 1)),
        "url": rule.url or None,
    }


def _settings(config: Any, report_violation: ReportViolation, urn: str | None) -> Settings | None:
    try:
        return settings_from_config(config)
    except SettingsError as exc:
        report_violation(f"invalid policy configuration: {exc}", urn)
        return None


def _provider_project(args: ResourceValidationArgs) -> str | None:
    if args.provider is None:
        return None
    project = _Reader().read(args.provider.props, "project", ".project")
    return project if isinstance(project, str) and project not in SENTINELS else None


def _report(
    rule_id: str,
    findings: Iterable[Finding],
    undetermined: Iterable[Undetermined],
    unknown_paths: Sequence[str],
    report_violation: ReportViolation,
    urn: str | None,
) -> None:
    for finding in findings:
        if finding.rule_id == rule_id:
            report_violation(finding.message, urn)
    reasons = [f"{u.resource}: {u.reason}" for u in undetermined if u.rule_id == rule_id]
    if reasons:
        if unknown_paths:
            reasons.append("unknown at preview: " + ", ".join(dict.fromkeys(unknown_paths)))
        raise NotJudged(rule_id, reasons)


# The resource types whose model a rule reads. The SDK calls every policy for every resource and
# decodes its properties each time; skipping types a rule cannot judge halves the pack's CPU per resource.
# tests/policy_pack/test_rule_types.py proves no other type can produce a result for the rule.
_GRANT_TYPES: Final = frozenset(IAM_TYPES) | frozenset(ACL_TYPES)
RULE_TYPES: Final[dict[str, frozenset[str]]] = {
    "no-public-access": _GRANT_TYPES,
    "no-broad-admin": _GRANT_TYPES,
    "no-personal-writers": _GRANT_TYPES,
    "immutable-tags": frozenset(REPOSITORY_TYPES),
    "cleanup-keeps-versions": frozenset(REPOSITORY_TYPES),
    "vulnerability-scanning": frozenset(REPOSITORY_TYPES),
    "customer-managed-encryption": frozenset(REPOSITORY_TYPES),
    "required-labels": frozenset(REPOSITORY_TYPES),
    "version-tag-required": frozenset(IMAGE_TYPES),
    "legacy-gcr": frozenset({CONTAINER_REGISTRY, BUCKET}),
    "bucket-hardening": frozenset({BUCKET}),
}


class _SharedAdaptation(threading.local):
    """Per server thread: inside `shared_adaptation()`, the resource adapted last and the result."""

    active = False
    key: tuple[Any, ...] = ()
    adapted: Adapted | None = None


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


def _resource_validate(rule_id: str) -> Any:
    types = RULE_TYPES.get(rule_id)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if types is not None and args.resource_type not in types:
            return
        settings = _settings(args.get_config(), report_violation, args.urn or None)
        if settings is None:
            return
        adapted = _adapt(args)
        if adapted is None:
            return
        judgement = judge(adapted.state, settings, [rule_id])
        _report(
            rule_id,
            (*adapted.problems, *judgement.findings),
            (*adapted.undetermined, *judgement.undetermined),
            adapted.unknown_paths,
            report_violation,
            args.urn or None,
        )

    validate.__name__ = f"validate_{rule_id.replace('-', '_')}"
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


def validate_iam_conflicts(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Build an IamDeclaration from every IAM resource in the stack and judge them together."""
    settings = _settings(args.get_config(), report_violation, None)
    if settings is None:
        return
    declarations: list[IamDeclaration] = []
    undetermined: list[Undetermined] = []
    for item in iam_declarations([_stack_resource(r) for r in args.resources]):
        (declarations if isinstance(item, IamDeclaration) else undetermined).append(item)  # type: ignore[arg-type]
    judgement = judge(
        RegistryState(iam_declarations=tuple(declarations)), settings, ["iam-authoritative-conflict"]
    )
    for finding in judgement.findings:
        resources = sorted(finding.evidence.get("resources", ()))
        report_violation(
            f"{finding.message} (resources: {', '.join(_short(u) for u in resources)})",
            resources[0] if resources else None,
        )
    undetermined.extend(judgement.undetermined)
    if undetermined:
        raise NotJudged(
            "iam-authoritative-conflict", [f"{_short(u.resource)}: {u.reason}" for u in undetermined]
        )


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=rule.id,
        validate=_resource_validate(rule.id),
        # A plain (non-awaitable) return works in the SDK too; its annotation only names the async form.
        remediate=REMEDIATIONS.get(rule.id),  # type: ignore[arg-type]
        **_metadata(rule),
    )


def stack_policy(rule: Rule) -> StackValidationPolicy:
    assert rule.id == "iam-authoritative-conflict", rule.id
    return StackValidationPolicy(name=rule.id, validate=validate_iam_conflicts, **_metadata(rule))


def all_policies() -> list[Policy]:
    """Every deploy-time rule, in catalogue order."""
    return [stack_policy(rule) if rule.id in STACK_RULES else resource_policy(rule) for rule in DEPLOY_RULES]


def policy(rule_id: str) -> Policy:
    for candidate in all_policies():
        if candidate.name == rule_id:
            return candidate
    raise KeyError(rule_id)
