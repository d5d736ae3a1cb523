"""config-drift: live repository and bucket settings against what the stack declares."""

from __future__ import annotations

import json

from registry_guard.catalogue.judge import judge
from registry_guard.catalogue.model import (
    UNKNOWN,
    Bucket,
    CleanupCondition,
    CleanupPolicy,
    MostRecentVersions,
    RegistryState,
)
from registry_guard.catalogue.rule import Inputs, Stage

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Case, Finds, Live
from .live_state import BUCKET_REF, repository


def drift(declared: RegistryState, live: RegistryState) -> Inputs:
    return Inputs(live, declared=declared)


DECLARED = RegistryState(repositories=(repository(),))

KEEP = CleanupPolicy("keep-releases", "KEEP", CleanupCondition(tag_state="TAGGED", tag_prefixes=("v",)))
RECENT = CleanupPolicy("keep-recent", "KEEP", most_recent_versions=MostRecentVersions(keep_count=10))
DELETE = CleanupPolicy("delete-untagged", "DELETE",
                       CleanupCondition(tag_state="UNTAGGED", older_than_seconds=2592000.0))
POLICIES = (KEEP, RECENT, DELETE)

CASES: list[Case] = [
    Live(
        name="live settings are the declared ones",
        inputs=drift(DECLARED, RegistryState(repositories=(repository(),))),
        stage=Stage.DECLARED,
        expect=PASSES,
    ),
    Live(
        name="immutable tags turned off live",
        inputs=drift(DECLARED, RegistryState(repositories=(repository(immutable_tags=False),))),
        stage=Stage.DECLARED,
        expect=Finds("immutableTags on projects/p/locations/l/repositories/r is false live; the stack declares true"),
    ),
    Live(
        name="one number of one cleanup policy changed live: only that field is named, as plain values",
        inputs=drift(RegistryState(repositories=(repository(cleanup_policies=POLICIES),)),
                     RegistryState(repositories=(repository(cleanup_policies=(
                         KEEP, CleanupPolicy("keep-recent", "KEEP", most_recent_versions=MostRecentVersions(
                             keep_count=3)), DELETE)),))),
        stage=Stage.DECLARED,
        expect=Finds("cleanupPolicies on projects/p/locations/l/repositories/r differ from the stack: "
                     "keep-recent.most_recent_versions.keep_count is 3 live, the stack declares 10"),
    ),
    Live(
        name="cleanup policies in another order are the same policies",
        inputs=drift(RegistryState(repositories=(repository(cleanup_policies=POLICIES),)),
                     RegistryState(repositories=(repository(cleanup_policies=tuple(reversed(POLICIES))),))),
        stage=Stage.DECLARED,
        expect=PASSES,
    ),
    Live(
        name="a cleanup policy added live is named with its whole value",
        inputs=drift(RegistryState(repositories=(repository(cleanup_policies=(KEEP,)),)),
                     RegistryState(repositories=(repository(cleanup_policies=(KEEP, DELETE)),))),
        stage=Stage.DECLARED,
        expect=Finds('delete-untagged is {"action": "DELETE", "condition": {"newer_than_seconds": null, '
                     '"older_than_seconds": 2592000.0, "package_name_prefixes": [], "tag_prefixes": [], '
                     '"tag_state": "UNTAGGED", "version_name_prefixes": []}, "id": "delete-untagged", '
                     '"most_recent_versions": null} live, the stack declares absent'),
    ),
    Live(
        name="a label changed and one removed live: each named",
        inputs=drift(DECLARED, RegistryState(repositories=(repository(labels={"owner": "research"}),))),
        stage=Stage.DECLARED,
        expect=Finds("labels on projects/p/locations/l/repositories/r differ from the stack: model is absent "
                     "live, the stack declares llm; owner is research live, the stack declares ml"),
    ),
    Live(
        name="labels Google or the provider add are not the stack's intent",
        inputs=drift(DECLARED, RegistryState(repositories=(
            repository(labels={"owner": "ml", "model": "llm", "goog-managed": "x"}),))),
        stage=Stage.DECLARED,
        expect=PASSES,
    ),
    Live(
        name="a setting the stack leaves unknown is not compared",
        inputs=drift(RegistryState(repositories=(repository(kms_key_name=UNKNOWN),)),
                     RegistryState(repositories=(repository(kms_key_name=None),))),
        stage=Stage.DECLARED,
        expect=PASSES,
    ),
    Live(
        name="public access prevention relaxed on a bucket",
        inputs=drift(RegistryState(buckets=(Bucket(BUCKET_REF, True, "enforced"),)),
                     RegistryState(buckets=(Bucket(BUCKET_REF, True, "inherited"),))),
        stage=Stage.DECLARED,
        expect=Finds("publicAccessPrevention on bucket artifacts.p.appspot.com is inherited live"),
    ),
    Live(
        name="unspecified public access prevention is inherited",
        inputs=drift(RegistryState(buckets=(Bucket(BUCKET_REF, True, "inherited"),)),
                     RegistryState(buckets=(Bucket(BUCKET_REF, True, "unspecified"),))),
        stage=Stage.DECLARED,
        expect=PASSES,
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)


def test_evidence_is_plain_json_naming_each_changed_field() -> None:
    """The evidence every format renders: JSON values (never Python reprs), and the fields that differ."""
    live = RegistryState(repositories=(repository(
        immutable_tags=False, labels={"owner": "ml", "model": "vision"},
        cleanup_policies=(KEEP, CleanupPolicy("keep-recent", "KEEP",
                                              most_recent_versions=MostRecentVersions(keep_count=3)))),))
    declared = RegistryState(repositories=(repository(cleanup_policies=POLICIES),))
    judged = judge(drift(declared, live), Stage.DECLARED, ["config-drift"])
    evidence = {f.evidence["setting"]: f.evidence for f in judged.findings}
    assert set(evidence) == {"immutableTags", "labels", "cleanupPolicies"}
    text = json.dumps([f.evidence for f in judged.findings])  # raises on anything that is not plain JSON
    assert "CleanupPolicy(" not in text and "MostRecentVersions(" not in text
    assert evidence["labels"]["changes"] == [{"field": "model", "declared": "llm", "live": "vision"}]
    assert evidence["cleanupPolicies"]["changes"] == [
        {"field": "delete-untagged", "declared": evidence["cleanupPolicies"]["declared"][0]},
        {"field": "keep-recent.most_recent_versions.keep_count", "declared": 10, "live": 3},
    ]
    assert evidence["cleanupPolicies"]["declared"][0]["condition"]["tag_state"] == "UNTAGGED"
    assert evidence["immutableTags"] == {"setting": "immutableTags", "declared": True, "live": False,
                                         "changes": [{"field": "", "declared": True, "live": False}]}
