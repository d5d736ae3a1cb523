"""The pack's Analyzer servicer: pulumi-policy's own, without decoding the same request once per policy.

Why: for every `Analyze` the SDK (1.21.0) turns the request's properties into Python
(`MessageToDict`, `deserialize_properties`, the unknown-checking proxy) and the provider's too, once
per policy, and on every call rebuilds the runtime settings with an `inspect.signature` lookup. With a
policy per rule that is most of the pack's CPU per resource, and because the engine asks about one
resource at a time, the pack's CPU is the deployment's wait (bench/RESULTS.md, benchmark 5, has figures).

What changes, and why responses stay the same (but for one addition):
* `Analyze` decodes the request once and gives every policy the same read-only view (no policy of this
  pack writes to `args.props`), so they also share one adaptation to the model; a policy whose rule
  cannot judge the resource type (`resource_types()`) is not called, since its `validate` would return
  before reporting anything.
* `AnalyzeStack` decodes the stack's resources once for all stack policies (the SDK decodes them again for
  each), and those policies share one adaptation of the stack.
* `Remediate` returns the SDK's empty answer at once when no policy is at level `remediate`, instead of
  configuring the runtime and decoding properties for no code at all. A property with a malformed
  signature then fails in `Analyze`, which decodes as the SDK does, rather than in `Remediate`; the
  engine stops the update either way.
* The runtime settings are still configured on every call (gRPC runs each call in a fresh
  `contextvars.Context`), from the environment read once instead of on every call.
* The one addition: every violation reporter also has `.advisory`, which reports at level advisory. The
  policies use it for what they prove but must not block on (a DELETE policy in dry run, a finding an active
  waiver accepts); on the SDK's own servicer there is no such reporter and those block (failing closed).
Everything else (`GetAnalyzerInfo`, `Configure`, `AnalyzeStack`, level mapping, error messages) is the
SDK's code. `tests/policy_pack/test_servicer.py` compares both servicers' responses byte for byte over
every deploy-time case of the catalogue, every enforcement level and random properties.

The class reads the SDK servicer's private fields, so `install` swaps it in only for the pulumi-policy
version it was written against; on any other version the pack runs the SDK's servicer unchanged.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Mapping
from inspect import isawaitable, signature
from typing import Any, Final

import pulumi.runtime
import pulumi_policy.policy as sdk
from google.protobuf import json_format
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy
from pulumi_policy.version import VERSION

from .policies import resource_types, shared_adaptation, shared_stack_state

# The pulumi-policy release whose `_PolicyAnalyzerServicer` this class was checked against.
SDK_VERSION: Final = "1.21.0"
SDK_SERVICER: Final = sdk._PolicyAnalyzerServicer


@functools.cache
def _runtime_settings() -> tuple[tuple[tuple[str, Any], ...], dict[str, Any] | None]:
    """What the SDK derives from the environment on every call (config, then `Settings` arguments,
    with an `inspect.signature` lookup), derived once: the pack's environment is fixed at its start."""
    config = tuple(pulumi.runtime.get_config_env().items())
    if not ("PULUMI_PROJECT" in os.environ and "PULUMI_STACK" in os.environ and "PULUMI_DRY_RUN" in os.environ):
        return config, None
    settings_args: dict[str, Any] = {
        "project": os.environ["PULUMI_PROJECT"],
        "stack": os.environ["PULUMI_STACK"],
        "dry_run": os.environ["PULUMI_DRY_RUN"] == "true",
    }
    if "organization" in signature(pulumi.runtime.Settings).parameters:
        settings_args["organization"] = os.environ.get("PULUMI_ORGANIZATION", "organization")
    return config, settings_args


class AdvisoryReports(SDK_SERVICER):  # type: ignore[misc,valid-type]
    """The SDK's servicer whose violation reporters also have `.advisory` (see the module docstring)."""

    def _create_report_violation(
        self, response: Any, policy_name: str, policy_description: str, enforcement_level: EnforcementLevel,
        severity: Any = None,
    ) -> Any:
        """The SDK's reporter, with `.advisory`: the same report at level advisory, for what a policy proves
        but must not block on (a DELETE policy in dry run, a finding an active waiver accepts)."""
        report = super()._create_report_violation(response, policy_name, policy_description, enforcement_level,
                                                  severity)
        report.advisory = super()._create_report_violation(response, policy_name, policy_description,
                                                           EnforcementLevel.ADVISORY, severity)
        return report


class SharedDecodeServicer(AdvisoryReports):
    """`_PolicyAnalyzerServicer` with one decode per request (see the module docstring)."""

    def _configure_runtime_settings(self) -> None:
        # Still on every call: gRPC runs each call in a fresh contextvars.Context, where they live.
        config, settings_args = _runtime_settings()
        for key, value in config:
            pulumi.runtime.set_config(key, value)
        if settings_args is not None:
            pulumi.runtime.configure(pulumi.runtime.Settings(**settings_args))

    def _policies(self) -> list[Policy]:
        policies: list[Policy] = self._PolicyAnalyzerServicer__policies
        return policies

    def Analyze(self, request: Any, _context: Any) -> Any:
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        with shared_adaptation():
            self._analyze(request, response)
        return response

    def _analyze(self, request: Any, response: Any) -> None:
        stack_tags: Mapping[str, str] = self._PolicyAnalyzerServicer__stack_tags
        decoded: tuple[Any, PolicyResourceOptions, PolicyProviderResource | None] | None = None
        for policy in self._policies():
            level = self._get_enforcement_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(policy, ResourceValidationPolicy):
                continue
            if not policy.has_validation():
                response.not_applicable.append(
                    proto.PolicyNotApplicable(policy_name=policy.name, reason="Policy does not implement validate")
                )
                continue
            if level == EnforcementLevel.REMEDIATE:
                level = EnforcementLevel.MANDATORY  # a violation left after remediation blocks
            if decoded is None:
                # Where the SDK decodes first, so a malformed property fails here as it does there.
                props = unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(request.properties)))
                decoded = (props, self._get_resource_options(request), self._get_provider_resource(request))
            types = resource_types().get(policy.name)
            if types is not None and request.type not in types:
                continue
            report_violation = self._create_report_violation(
                response, policy.name, policy.description, level, policy.severity
            )
            args = ResourceValidationArgs(
                request.type, decoded[0], request.urn, request.name, decoded[1], decoded[2],
                self._get_policy_config(policy.name), stack_tags,
            )
            self._validate(policy, args, report_violation, response)

    def _validate(self, policy: Any, args: Any, report_violation: Any, response: Any) -> None:
        """Run one policy as the SDK's Analyze and AnalyzeStack loops do: a value unknown at preview becomes an
        advisory diagnostic, a policy that does not apply is reported as such."""
        pack_name: str = self._PolicyAnalyzerServicer__policy_pack_name
        pack_version: str = self._PolicyAnalyzerServicer__policy_pack_version
        try:
            result = policy.validate(args, report_violation)
            if isawaitable(result):
                loop = asyncio.new_event_loop()
                loop.run_until_complete(result)
                loop.close()
        except UnknownValueError as exc:
            response.diagnostics.append(
                proto.AnalyzeDiagnostic(
                    policyName=policy.name,
                    policyPackName=pack_name,
                    policyPackVersion=pack_version,
                    message=(
                        f"can't run policy '{policy.name}' from policy pack "
                        f"'{pack_name}@v{pack_version}' during preview: {exc.message}"
                    ),
                    urn="",
                    description=policy.description,
                    enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY),
                )
            )
        except sdk._NotApplicableError as exc:
            response.not_applicable.append(
                proto.PolicyNotApplicable(policy_name=policy.name, reason=exc.reason or "")
            )

    def AnalyzeStack(self, request: Any, _context: Any) -> Any:
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        with shared_stack_state():
            self._analyze_stack(request, response)
        return response

    def _analyze_stack(self, request: Any, response: Any) -> None:
        """The SDK's AnalyzeStack loop, decoding the resources once for all stack policies instead of once each
        (and, as there, only when some stack policy runs)."""
        stack_tags: Mapping[str, str] = self._PolicyAnalyzerServicer__stack_tags
        resources: list[PolicyResource] | None = None
        for policy in self._policies():
            level = self._get_enforcement_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(policy, StackValidationPolicy):
                continue
            if level == EnforcementLevel.REMEDIATE:
                level = EnforcementLevel.MANDATORY  # stack policies cannot be remediated
            report_violation = self._create_report_violation(
                response, policy.name, policy.description, level, policy.severity
            )
            if resources is None:
                resources = self._stack_resources(request)
            args = StackValidationArgs(resources, self._get_policy_config(policy.name), stack_tags)
            self._validate(policy, args, report_violation, response)

    def _stack_resources(self, request: Any) -> list[PolicyResource]:
        """The request's resources as the SDK builds them: decoded, with parents and dependencies linked."""
        resources: list[PolicyResource] = []
        links: list[tuple[PolicyResource, str, list[str], dict[str, list[str]]]] = []
        for r in request.resources:
            props = unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(r.properties)))
            resource = PolicyResource(r.type, props, r.urn, r.name, self._get_resource_options(r),
                                      self._get_provider_resource(r), None, [], {})
            resources.append(resource)
            links.append((resource, r.parent, list(r.dependencies),
                          {k: list(v.urns) for k, v in r.propertyDependencies.items()}))
        by_urn = {resource.urn: resource for resource in resources}
        for resource, parent, dependencies, property_dependencies in links:
            if parent is not None and parent in by_urn:
                resource.parent = by_urn[parent]
            resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
            for key, urns in property_dependencies.items():
                resource.property_dependencies[key] = [by_urn[d] for d in urns if d in by_urn]
        return resources

    def Remediate(self, request: Any, context: Any) -> Any:
        for policy in self._policies():
            if isinstance(policy, ResourceValidationPolicy) and (
                self._get_enforcement_level(policy) == EnforcementLevel.REMEDIATE
            ):
                return super().Remediate(request, context)
        # No runtime settings either: nothing runs in this call, and its context ends with it.
        return proto.RemediateResponse()


def install() -> bool:
    """Make `PolicyPack(...)` serve with `SharedDecodeServicer`; True if it did (the pinned SDK)."""
    if VERSION != SDK_VERSION:
        return False
    setattr(sdk, "_PolicyAnalyzerServicer", SharedDecodeServicer)  # noqa: B010 - mypy: a class is not assignable
    return True
