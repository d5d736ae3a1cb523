"""no-broad-writers: its cases at deploy time through the pack's policies, and live."""

from __future__ import annotations

from registry_guard.catalogue.model import RegistryState
from registry_guard.catalogue.rule import Inputs
from registry_guard.catalogue.settings import Settings

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Blocks, CannotJudge, Case, Deploy, Finds, Live
from .live_state import CI, CI_REF, FOLDER_REF, effective, member
from .resources import (
    AR_BINDING,
    AR_MEMBER,
    AR_TARGET,
    B_MEMBER,
    CR_BUCKET,
    F_MEMBER,
    FOLDER,
    P_MEMBER,
    POOL_GROUP,
    REPO_SET,
    WORKLOAD,
)

WRITER = "roles/artifactregistry.writer"

CASES: list[Case] = [
    Deploy(
        name="the CI service account can push",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": WRITER, "member": "serviceAccount:ci@ml-prod.iam.gserviceaccount.com"},
        expect=PASSES,
    ),
    Deploy(
        name="a whole domain can push",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": WRITER, "member": "domain:example.com"},
        expect=Blocks("domain:example.com can write to projects/ml-prod/locations/europe-west4/repositories/models"),
    ),
    Deploy(
        name="a whole domain may pull",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.reader", "member": "domain:example.com"},
        expect=PASSES,
    ),
    Deploy(
        name="every workflow of a repository, through its attribute set, can push",
        type=AR_BINDING,
        props={**AR_TARGET, "role": WRITER, "members": ["group:ml@example.com", REPO_SET]},
        expect=Blocks("a set of identities (every identity the pool or attribute admits) can push"),
    ),
    Deploy(
        name="the attribute set is allow-listed",
        type=AR_BINDING,
        props={**AR_TARGET, "role": WRITER, "members": [REPO_SET]},
        config={"allowedWriters": [REPO_SET]},
        expect=PASSES,
    ),
    Deploy(
        name="a group of a workload identity pool can push",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": WRITER, "member": POOL_GROUP},
        expect=PASSES,
    ),
    Deploy(
        name="one workload identity can push",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": WRITER, "member": WORKLOAD},
        expect=PASSES,
    ),
    Deploy(
        name="every viewer of the project can write to the Container Registry bucket",
        type=B_MEMBER,
        props={"bucket": CR_BUCKET, "role": "roles/storage.legacyBucketWriter", "member": "projectViewer:ml-prod"},
        expect=Blocks("every viewer of project ml-prod can push"),
    ),
    Deploy(
        name="a domain with a registry writer role on the project",
        type=P_MEMBER,
        props={"project": "ml-prod", "role": WRITER, "member": "domain:example.com"},
        expect=Blocks("domain:example.com can write to ml-prod"),
    ),
    Deploy(
        name="a domain with object creator on the folder above",
        type=F_MEMBER,
        props={**FOLDER, "role": "roles/storage.objectCreator", "member": "domain:example.com"},
        expect=Blocks("can write to folders/301234567890"),
    ),
    Deploy(
        name="admin roles are no-broad-admin's",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.admin", "member": "domain:example.com"},
        expect=PASSES,
    ),
    Deploy(
        name="a member spelled in no way Google Cloud defines cannot be judged",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": WRITER, "member": "everyone:acme"},
        expect=CannotJudge("who that is cannot be told"),
    ),
    Live(
        name="live: a domain in a repository's IAM policy can push",
        inputs=Inputs(RegistryState(grants=(member(WRITER, "domain:example.com"),))),
        expect=Finds("domain:example.com can write to projects/p/locations/l/repositories/r"),
    ),
    # Effective access (scan --effective-access): inherited and impersonation paths.
    Live(
        name="live, effective: a whole domain pushes through a folder's grant",
        inputs=Inputs(effective(member("roles/artifactregistry.writer", "domain:example.com", FOLDER_REF))),
        expect=Finds("domain:example.com can push new versions, move or overwrite tags on projects/p/locations/l/"
                     "repositories/r (roles/artifactregistry.writer on folder folders/20)"),
    ),
    Live(
        name="live, effective: a workload identity pool may act as the CI account that pushes",
        inputs=Inputs(effective(member("roles/artifactregistry.writer", f"serviceAccount:{CI}"),
                                member("roles/iam.workloadIdentityUser", REPO_SET, CI_REF))),
        expect=Finds(f"acting as {CI} (roles/iam.workloadIdentityUser"),
    ),
    Live(
        name="live, effective: an allow-listed set of identities passes",
        inputs=Inputs(effective(member("roles/artifactregistry.writer", "domain:example.com", FOLDER_REF)),
                      Settings(allowed_writers=("domain:example.com",))),
        expect=PASSES,
    ),
    Live(
        name="live, effective: a writer account whose IAM could not be read cannot be judged",
        inputs=Inputs(effective(member("roles/artifactregistry.writer", f"serviceAccount:{CI}"),
                                unread={CI_REF: "Forbidden (403): denied"})),
        expect=CannotJudge(f"the IAM policy of service account {CI} could not be read"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
