"""legacy-gcr: its cases at deploy time through the pack's policies, and live."""

from __future__ import annotations

from registry_guard.catalogue.model import Bucket, RegistryState
from registry_guard.catalogue.rule import Inputs

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Case, Deploy, Finds, Live, Warns
from .live_state import BUCKET_REF
from .resources import B_AC, B_MEMBER, BUCKET, CR_BUCKET, GCR, REPO, repo

CASES: list[Case] = [
    Deploy(
        name="Artifact Registry repository",
        type=REPO,
        props=repo(),
        expect=PASSES,
    ),
    Deploy(
        name="gcp.container.Registry",
        type=GCR,
        props={"project": "ml-prod"},
        expect=Warns("gcr.io/ml-prod is Container Registry"),
    ),
    Deploy(
        name="gcp.container.Registry in EU",
        type=GCR,
        props={"project": "ml-prod", "location": "EU"},
        expect=Warns("eu.gcr.io/ml-prod"),
    ),
    Deploy(
        name="a Container Registry bucket declared as a bucket",
        type=BUCKET,
        props={
            "name": "eu.artifacts.ml-prod.appspot.com",
            "uniformBucketLevelAccess": True,
            "publicAccessPrevention": "enforced",
        },
        expect=Warns("backs a Container Registry"),
    ),
    Deploy(
        name="an ordinary bucket",
        type=BUCKET,
        props={"name": "reports", "uniformBucketLevelAccess": True},
        expect=PASSES,
    ),
    Live(
        name="live: a bucket that backs a Container Registry",
        inputs=Inputs(RegistryState(buckets=(Bucket(BUCKET_REF, True, "enforced", is_container_registry=True),))),
        expect=Finds("bucket artifacts.p.appspot.com backs a Container Registry"),
    ),
    Deploy(
        name="IAM on a Container Registry bucket manages who may pull or push",
        type=B_MEMBER,
        props={"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "member": "group:ml@example.com"},
        expect=Warns(f"1 grant(s) on bucket {CR_BUCKET} manage access to Container Registry gcr.io/ml-prod"),
    ),
    Deploy(
        name="an ACL entry on the eu Container Registry bucket",
        type=B_AC,
        props={"bucket": "eu.artifacts.ml-prod.appspot.com", "role": "READER", "entity": "group-ml@example.com"},
        expect=Warns("Container Registry eu.gcr.io/ml-prod"),
    ),
    Deploy(
        name="bucket IAM read back by the provider as b/<name> is the same bucket",
        type=B_MEMBER,
        props={"bucket": f"b/{CR_BUCKET}", "role": "roles/storage.objectViewer", "member": "group:ml@example.com"},
        expect=Warns(f"on bucket {CR_BUCKET} manage access"),
    ),
    Deploy(
        name="IAM on an ordinary bucket is not Container Registry",
        type=B_MEMBER,
        props={"bucket": "ml-prod-reports", "role": "roles/storage.objectViewer", "member": "group:ml@example.com"},
        expect=PASSES,
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
