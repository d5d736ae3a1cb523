"""no-personal-writers: its cases at deploy time through the pack's policies, and live."""

from __future__ import annotations

from registry_guard.catalogue.model import RegistryState
from registry_guard.catalogue.rule import Inputs

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Case, Deploy, Finds, Live, Warns
from .live_state import CI, CI_REF, FOLDER_REF, ORG_REF, PROJECT_REF, effective, member
from .resources import (
    AR_BINDING,
    AR_MEMBER,
    AR_TARGET,
    B_AC,
    B_MEMBER,
    CR_BUCKET,
    F_MEMBER,
    FOLDER,
    P_BINDING,
    P_MEMBER,
    WORKFORCE_PERSON,
    WORKLOAD,
)

REPO_AT = "on projects/p/locations/l/repositories/r ("

CASES: list[Case] = [
    Deploy(
        name="writer is a service account",
        type=AR_MEMBER,
        props={
            **AR_TARGET,
            "role": "roles/artifactregistry.writer",
            "member": "serviceAccount:ci@p.iam.gserviceaccount.com",
        },
        expect=PASSES,
    ),
    Deploy(
        name="writer is a person",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.writer", "member": "user:ann@example.com"},
        expect=Warns("user:ann@example.com can write to"),
    ),
    Deploy(
        name="consumer account as reader",
        type=AR_BINDING,
        props={**AR_TARGET, "role": "roles/artifactregistry.reader", "members": ["user:someone@gmail.com"]},
        expect=Warns("consumer account user:someone@gmail.com"),
    ),
    Deploy(
        name="reader is a person (allowed)",
        type=B_MEMBER,
        props={"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "member": "user:ann@example.com"},
        expect=PASSES,
    ),
    Deploy(
        name="bucket ACL WRITER to a person",
        type=B_AC,
        props={"bucket": CR_BUCKET, "entity": "user-ann@example.com", "role": "WRITER"},
        expect=Warns("can write to"),
    ),
    Deploy(
        name="project role outside the registry to a person",
        type=P_MEMBER,
        props={"project": "ml-prod", "role": "roles/logging.viewer", "member": "user:ann@example.com"},
        expect=PASSES,
    ),
    Deploy(
        name="custom admin role to a person counts as writing",
        type=P_BINDING,
        props={
            "project": "ml-prod",
            "role": "projects/ml-prod/roles/pusher",
            "members": ["user:ann@example.com"],
        },
        expect=Warns("projects/ml-prod/roles/pusher"),
        config={"adminRoles": ["projects/ml-prod/roles/pusher"]},
    ),
    Live(
        name="live: a person can push",
        inputs=Inputs(RegistryState(grants=(member("roles/artifactregistry.writer", "user:ana@example.com"),))),
        expect=Finds("user:ana@example.com can write to projects/p/locations/l/repositories/r"),
    ),
    Deploy(
        name="one workforce identity can push",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.writer", "member": WORKFORCE_PERSON},
        expect=Warns(f"{WORKFORCE_PERSON} can write to"),
    ),
    Deploy(
        name="one workload identity can push",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.writer", "member": WORKLOAD},
        expect=PASSES,
    ),
    Deploy(
        name="a person with a registry writer role on the folder above",
        type=F_MEMBER,
        props={**FOLDER, "role": "roles/artifactregistry.writer", "member": "user:ana@example.com"},
        expect=Warns("user:ana@example.com can write to folders/301234567890"),
    ),
    # Effective access (scan --effective-access): inherited and impersonation paths.
    Live(
        name="live, effective: a person pushes through the project's grant",
        inputs=Inputs(effective(member("roles/artifactregistry.writer", "user:alice@example.com", PROJECT_REF))),
        expect=Finds("user:alice@example.com can push new versions, move or overwrite tags on projects/p/locations/"
                     "l/repositories/r (roles/artifactregistry.writer on project p)"),
    ),
    Live(
        name="live, effective: a person who may act as the CI account that pushes",
        inputs=Inputs(effective(member("roles/artifactregistry.writer", f"serviceAccount:{CI}"),
                                member("roles/iam.serviceAccountTokenCreator", "user:bob@example.com", CI_REF))),
        expect=Finds(f"user:bob@example.com can push new versions, move or overwrite tags {REPO_AT}acting as {CI}"),
    ),
    Live(
        name="live, effective: a person who can only pull passes",
        inputs=Inputs(effective(member("roles/viewer", "user:carol@example.com", FOLDER_REF))),
        expect=PASSES,
    ),
    Live(
        name="live, effective: a consumer account with inherited access",
        inputs=Inputs(effective(member("roles/viewer", "user:someone@gmail.com", ORG_REF))),
        expect=Finds("consumer account user:someone@gmail.com can pull"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
