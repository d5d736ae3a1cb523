"""The pack's servicer answers exactly as pulumi-policy's own does, only with one decode per request.

Why byte for byte: `SharedDecodeServicer` re-implements the SDK's `Analyze` loop and short-cuts
`Remediate`; any drift (a missed not-applicable entry, a level mapped differently, a policy skipped
that had something to say) would change what `pulumi up` blocks. So both servicers, configured alike,
get the same requests (every case of every rule, every enforcement level, random properties with
unknowns) and their serialized responses must be equal. The reference is the SDK's servicer with the one
documented addition, the advisory reporter (`AdvisoryReports`).
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.runtime.settings as runtime_settings
import pulumi_policy.policy as sdk
import pytest
from catalogue.rules.cases import deploy_cases, stack_cases
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE
from registry_guard.catalogue.rule import Stage, rules_at
from registry_guard.pack import servicer as pack_servicer
from registry_guard.pack.policies import all_policies, resource_types
from registry_guard.pack.servicer import AdvisoryReports, SharedDecodeServicer

from .harness import servicer, struct, urn

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
POLICIES = sorted(rule.id for rule in rules_at(Stage.DEPLOY))
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def _config(level: str | None, per_policy: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    config: dict[str, dict[str, Any]] = {name: dict(v) for name, v in (per_policy or {}).items()}
    if level is not None:
        for name in POLICIES:
            config.setdefault(name, {})["enforcementLevel"] = level
    return config


def _pair(config: Mapping[str, Mapping[str, Any]]) -> tuple[Any, Any]:
    # The reference is the SDK's servicer with the one documented addition, the advisory reporter.
    return servicer(config, kind=AdvisoryReports), servicer(config, kind=SharedDecodeServicer)


def _request(type_token: str, props: Mapping[str, Any], provider: Mapping[str, Any] | None = None) -> Any:
    request = proto.AnalyzeRequest(type=type_token, properties=struct(props), urn=urn(type_token, "res"), name="res")
    if provider is not None:
        request.provider.CopyFrom(
            proto.AnalyzerProviderResource(
                type="pulumi:providers:gcp", properties=struct(provider),
                urn="urn:pulumi:dev::p::pulumi:providers:gcp::default", name="default",
            )
        )
    return request


def _same(sdk_service: Any, ours: Any, request: Any) -> None:
    for method in ("Remediate", "Analyze"):
        expected = getattr(sdk_service, method)(request, None).SerializeToString(deterministic=True)
        got = getattr(ours, method)(request, None).SerializeToString(deterministic=True)
        assert got == expected, (method, request.type, json.dumps(_props(request))[:300])


def _props(request: Any) -> Any:
    return json_format.MessageToDict(request.properties)


CASES = deploy_cases()


@pytest.mark.parametrize("level", [None, *LEVELS])
def test_every_case_answers_the_same_at_every_level(level: str | None) -> None:
    """Every deploy-time case of every rule, each with its own policy config, at the catalogue's levels and
    with every policy forced to each level (remediate runs the remediations; disabled skips everything)."""
    compared = 0
    pairs: dict[str, tuple[Any, Any]] = {}
    for policy, case in CASES:
        key = json.dumps({policy: case.config}, sort_keys=True)
        if key not in pairs:
            pairs[key] = _pair(_config(level, {policy: case.config}))
        sdk_service, ours = pairs[key]
        _same(sdk_service, ours, _request(case.type, case.props))
        compared += 1
    assert compared == len(CASES) >= 96


def test_cases_with_a_provider_project_answer_the_same() -> None:
    """The provider's `project` stands in for a missing one: the provider is decoded once too."""
    sdk_service, ours = _pair(_config(None))
    for _, case in CASES:
        provider = {"project": "ml-prod", "region": "europe-west4"}
        _same(sdk_service, ours, _request(case.type, case.props, provider=provider))


def test_the_compared_answers_are_not_empty() -> None:
    """Guard against an equality that holds only because nothing was judged: the cases do produce
    violations, not-applicable entries (remediate level) and remediations through the pack's servicer."""
    ours = servicer(_config("remediate"))
    diagnostics = not_applicable = remediations = 0
    for _, case in CASES:
        request = _request(case.type, case.props)
        analyzed = ours.Analyze(request, None)
        diagnostics += len(analyzed.diagnostics)
        remediated = ours.Remediate(request, None)
        not_applicable += len(remediated.not_applicable)
        remediations += len(remediated.remediations)
    assert diagnostics > 50 and not_applicable > 100 and remediations >= 2


# --- random properties -----------------------------------------------------------------------------------

KEYS = [
    "project", "location", "repository", "repositoryId", "role", "member", "members", "policyData", "bucket",
    "format", "dockerConfig", "immutableTags", "cleanupPolicies", "cleanupPolicyDryRun", "action", "condition",
    "tagState", "tagPrefixes", "olderThan", "mostRecentVersions", "keepCount", "labels", "kmsKeyName", "name",
    "uniformBucketLevelAccess", "publicAccessPrevention", "entity", "roleEntities", "predefinedAcl",
    "imageName", "tags", "push", "vulnerabilityScanningConfig", "enablementConfig", "expression", "title",
]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from([
        UNKNOWN_STRING_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_ARRAY_VALUE, "allUsers", "user:a@gmail.com",
        "serviceAccount:ci@p.iam.gserviceaccount.com", "roles/artifactregistry.admin", "roles/owner",
        "roles/artifactregistry.reader", "DOCKER", "KEEP", "DELETE", "TAGGED", "UNTAGGED", "v", "1.0.0",
        "europe-west4-docker.pkg.dev/ml-prod/models/llm:v1.2.3",
        "europe-west4-docker.pkg.dev/ml-prod/models/llm:latest",
        "artifacts.ml-prod.appspot.com", "enforced", "inherited", "86400s", "",
    ]), st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
        st.builds(lambda v: {**SECRET_SIG, "value": v}, inner),  # a secret: unwrapped by the SDK's decoding
    ),
    max_leaves=12,
)
TYPES = sorted({t for types in resource_types().values() for t in types} | {"gcp:compute/instance:Instance"})
SERVICES = {level: _pair(_config(level)) for level in (None, "remediate", "mandatory")}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    type_token=st.sampled_from(TYPES),
    props=st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8),
    level=st.sampled_from([None, "remediate", "mandatory"]),
)
def test_random_properties_answer_the_same(type_token: str, props: dict[str, Any], level: str | None) -> None:
    sdk_service, ours = SERVICES[level]
    try:
        struct(props)
    except ValueError:  # a value Struct cannot carry (the engine could not send it either)
        return
    _same(sdk_service, ours, _request(type_token, props))


# --- where the two may differ, on purpose ------------------------------------------------------------------

MALFORMED = {"labels": {"4dabf18193072939515e22adb298388d": "no-such-signature"}}


def test_a_malformed_property_fails_analyze_as_in_the_sdk() -> None:
    sdk_service, ours = _pair(_config(None))
    request = _request("gcp:artifactregistry/repository:Repository", MALFORMED)
    with pytest.raises(AssertionError, match="Unrecognized signature") as expected:
        sdk_service.Analyze(request, None)
    with pytest.raises(AssertionError, match="Unrecognized signature") as got:
        ours.Analyze(request, None)
    assert str(got.value) == str(expected.value)


def test_remediate_decodes_only_when_a_policy_remediates() -> None:
    """Without a policy at level remediate the answer is the SDK's empty one, with no decoding (so a
    malformed property surfaces in Analyze); with one, it is the SDK's code and fails the same way."""
    request = _request("gcp:artifactregistry/repository:Repository", MALFORMED)
    sdk_service, ours = _pair(_config(None))
    with pytest.raises(AssertionError):
        sdk_service.Remediate(request, None)
    assert ours.Remediate(request, None).SerializeToString() == proto.RemediateResponse().SerializeToString()
    sdk_service, ours = _pair(_config("remediate"))
    with pytest.raises(AssertionError):
        sdk_service.Remediate(request, None)
    with pytest.raises(AssertionError):
        ours.Remediate(request, None)


def test_runtime_settings_are_the_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each call configures Pulumi's runtime (project, stack, dry run, organization, config) as the SDK
    does, though ours reads the environment once: compared in two fresh contexts, as gRPC runs calls."""
    monkeypatch.setenv("PULUMI_PROJECT", "ml-registry")
    monkeypatch.setenv("PULUMI_STACK", "prod")
    monkeypatch.setenv("PULUMI_DRY_RUN", "false")
    monkeypatch.setenv("PULUMI_ORGANIZATION", "ml-team")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"model-registry:location": "europe-west4"}))
    pack_servicer._runtime_settings.cache_clear()

    def observed(kind: type[Any]) -> tuple[Any, ...]:
        service = kind("model-registry-guard", "0.0.1", all_policies(), EnforcementLevel.ADVISORY)
        service.Analyze(_request("gcp:storage/bucket:Bucket", {"name": "b"}), None)
        return (
            runtime_settings.get_project(), runtime_settings.get_stack(), runtime_settings.is_dry_run(),
            runtime_settings.get_organization(), pulumi.Config("model-registry").get("location"),
        )

    try:
        expected = contextvars.Context().run(observed, sdk._PolicyAnalyzerServicer)
        got = contextvars.Context().run(observed, SharedDecodeServicer)
    finally:
        pack_servicer._runtime_settings.cache_clear()
    assert got == expected == ("ml-registry", "prod", False, "ml-team", "europe-west4")


def test_install_swaps_the_servicer_only_for_the_pinned_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdk, "_PolicyAnalyzerServicer", pack_servicer.SDK_SERVICER)
    monkeypatch.setattr(pack_servicer, "VERSION", "9.9.9")
    assert pack_servicer.install() is False
    assert sdk._PolicyAnalyzerServicer is pack_servicer.SDK_SERVICER
    monkeypatch.setattr(pack_servicer, "VERSION", pack_servicer.SDK_VERSION)
    assert pack_servicer.install() is True
    assert sdk._PolicyAnalyzerServicer is SharedDecodeServicer



def test_the_advisory_reporter_is_the_only_difference_from_the_sdk() -> None:
    """A dry-run cleanup policy is a violation the pack reports without blocking; the SDK's own servicer,
    which has no advisory reporter, blocks on it (fail closed). Nothing else differs (the tests above)."""
    props = {"repositoryId": "models", "location": "europe-west4", "project": "ml-prod", "format": "DOCKER",
             "dockerConfig": {"immutableTags": True}, "cleanupPolicyDryRun": True,
             "cleanupPolicies": [{"id": "drop", "action": "DELETE", "condition": {"tagState": "ANY"}}]}
    request = _request("gcp:artifactregistry/repository:Repository", props)
    levels = {}
    for kind in (sdk._PolicyAnalyzerServicer, SharedDecodeServicer):
        answer = servicer({}, kind=kind).Analyze(request, None)
        levels[kind] = [d.enforcementLevel for d in answer.diagnostics if d.policyName == "cleanup-keeps-versions"]
    assert levels[sdk._PolicyAnalyzerServicer] == [proto.MANDATORY]
    assert levels[SharedDecodeServicer] == [proto.ADVISORY]


def _stack_request(items: list[tuple[str, str, Mapping[str, Any], Mapping[str, list[str]]]]) -> Any:
    urns = {name: urn(type_token, name) for type_token, name, _, _ in items}
    return proto.AnalyzeStackRequest(resources=[
        proto.AnalyzerResource(
            type=type_token, properties=struct(props), urn=urns[name], name=name,
            dependencies=sorted({urns[d] for ds in deps.values() for d in ds}),
            propertyDependencies={k: proto.AnalyzerPropertyDependencies(urns=[urns[d] for d in v])
                                  for k, v in deps.items()},
        )
        for type_token, name, props, deps in items
    ])


@pytest.mark.parametrize("level", [None, *LEVELS])
def test_every_stack_answers_the_same_at_every_level(level: str | None) -> None:
    """AnalyzeStack decodes the resources once for all stack policies: every whole-stack case of the catalogue,
    and every one-resource case together as one stack, answer byte for byte as the SDK's loop does."""
    stacks = [[(i.type, i.name, i.props, dict(i.property_dependencies or {})) for i in case.resources]
              for _, case in stack_cases()]
    stacks.append([(case.type, f"r{n}", case.props, {}) for n, (_, case) in enumerate(CASES)])
    sdk_service, ours = _pair(_config(level))
    for items in stacks:
        request = _stack_request(items)
        expected = sdk_service.AnalyzeStack(request, None).SerializeToString(deterministic=True)
        assert ours.AnalyzeStack(request, None).SerializeToString(deterministic=True) == expected, items[:2]
    assert len(stacks) > 10
