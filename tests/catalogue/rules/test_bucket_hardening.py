"""bucket-hardening: its cases at deploy time through the pack's policies, and live."""

from __future__ import annotations

from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE
from registry_guard.catalogue.model import Bucket, RegistryState
from registry_guard.catalogue.rule import Inputs

from audit.offline_check.analyzer import PolicyPackClient, Resource

from .cases import PASSES, Blocks, CannotJudge, Case, Deploy, Finds, Live
from .live_state import BUCKET_REF
from .resources import BUCKET, U

CASES: list[Case] = [
    Deploy(
        name="uniform access and public access prevention",
        type=BUCKET,
        props={"name": "reports", "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced"},
        expect=PASSES,
    ),
    Deploy(
        name="neither setting",
        type=BUCKET,
        props={"name": "reports"},
        expect=Blocks("uniform bucket-level access is off; public access prevention is inherited"),
    ),
    Deploy(
        name="public access prevention inherited",
        type=BUCKET,
        props={"name": "reports", "uniformBucketLevelAccess": True, "publicAccessPrevention": "inherited"},
        expect=Blocks("public access prevention is inherited, not enforced"),
    ),
    Deploy(
        name="public access prevention unknown",
        type=BUCKET,
        props={"name": "reports", "uniformBucketLevelAccess": True, "publicAccessPrevention": U},
        expect=CannotJudge("publicAccessPrevention not known yet"),
    ),
    Deploy(
        name="uniform access unknown",
        type=BUCKET,
        props={
            "name": "reports",
            "uniformBucketLevelAccess": UNKNOWN_BOOLEAN_VALUE,
            "publicAccessPrevention": "enforced",
        },
        expect=CannotJudge("uniformBucketLevelAccess not known yet"),
    ),
    Deploy(
        name="uniform access off",
        type=BUCKET,
        props={"name": "reports", "uniformBucketLevelAccess": False, "publicAccessPrevention": "enforced"},
        expect=Blocks("uniform bucket-level access is off"),
    ),
    Live(
        name="live: a bucket with fine-grained ACLs",
        inputs=Inputs(RegistryState(buckets=(Bucket(BUCKET_REF, False, "enforced"),))),
        expect=Finds("uniform bucket-level access is off"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)


def test_remediation_enforces_public_access_prevention_and_never_uniform_access(configured: PolicyPackClient) -> None:
    """At level remediate the pack enforces public access prevention, and leaves uniform access to people:
    ACL grants elsewhere in the stack would stop working, and the switch cannot be undone after 90 days."""
    configured.configure({"bucket-hardening": {"enforcementLevel": "remediate"}})
    bucket = Resource(BUCKET, "reports", f"urn:pulumi:dev::p::{BUCKET}::reports",
                      {"name": "ml-prod-reports", "uniformBucketLevelAccess": False,
                       "publicAccessPrevention": "inherited"})
    [fixed] = [r.properties for r in configured.remediate(bucket) if r.properties is not None]
    assert fixed["publicAccessPrevention"] == "enforced" and fixed["uniformBucketLevelAccess"] is False
    violations, _ = configured.check([bucket])
    [left] = [v for v in violations if v.policy_name == "bucket-hardening"]
    assert left.enforcement_level == "mandatory" and "uniform bucket-level access is off" in left.message
    assert "public access prevention" not in left.message
