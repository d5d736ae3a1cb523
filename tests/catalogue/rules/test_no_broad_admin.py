"""no-broad-admin: its cases at deploy time through the pack's policies, and live."""

from __future__ import annotations

from registry_guard.catalogue.model import RegistryState
from registry_guard.catalogue.rule import Inputs
from registry_guard.catalogue.settings import Settings

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Blocks, CannotJudge, Case, Deploy, Finds, Live
from .live_state import CI, CI_REF, FOLDER_REF, ORG_REF, PROJECT_REF, effective, member
from .resources import (
    AR_BINDING,
    AR_MEMBER,
    AR_POLICY,
    AR_TARGET,
    B_AC,
    B_BINDING,
    B_MEMBER,
    B_POLICY,
    CI_SA_ID,
    CR_BUCKET,
    F_BINDING,
    FOLDER,
    O_MEMBER,
    ORG,
    P_MEMBER,
    POOL,
    SA_MEMBER,
    WORKFORCE_PERSON,
    WORKLOAD,
    U,
    policy_data,
)

AT_REPO = "on projects/p/locations/l/repositories/r ("

CASES: list[Case] = [
    Deploy(
        name="admin group on allowedAdmins",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.repoAdmin", "member": "group:Admins@example.com"},
        expect=PASSES,
        config={"allowedAdmins": ["group:admins@example.com"]},
    ),
    Deploy(
        name="the original example: storage.admin to a user on the registry bucket",
        type=B_BINDING,
        props={"bucket": CR_BUCKET, "role": "roles/storage.admin", "members": ["user:member-id@example.com"]},
        expect=Blocks("admin-class roles never go to a person"),
    ),
    Deploy(
        name="repoAdmin to a whole domain",
        type=AR_BINDING,
        props={**AR_TARGET, "role": "roles/artifactregistry.repoAdmin", "members": ["domain:example.com"]},
        expect=Blocks("never go to a whole domain"),
        config={"allowedAdmins": ["group:admins@example.com"]},
    ),
    Deploy(
        name="admin group not on allowedAdmins",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.admin", "member": "group:ops@example.com"},
        expect=Blocks("the principal is not on allowedAdmins"),
    ),
    Deploy(
        name="custom role configured as admin",
        type=AR_MEMBER,
        props={
            **AR_TARGET,
            "role": "projects/ml-prod/roles/registryBoss",
            "member": "serviceAccount:ci@p.iam.gserviceaccount.com",
        },
        expect=Blocks("projects/ml-prod/roles/registryBoss"),
        config={"adminRoles": ["projects/ml-prod/roles/registryBoss"]},
    ),
    Deploy(
        name="project owner to an unlisted service account",
        type=P_MEMBER,
        props={
            "project": "ml-prod",
            "role": "roles/owner",
            "member": "serviceAccount:ci@p.iam.gserviceaccount.com",
        },
        expect=Blocks("holds admin-class role roles/owner"),
    ),
    Deploy(
        name="bucket ACL OWNER to a person",
        type=B_AC,
        props={"bucket": CR_BUCKET, "entity": "user-ann@example.com", "role": "OWNER"},
        expect=Blocks("acl:OWNER"),
    ),
    Deploy(
        name="reader role to a user is not admin",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.reader", "member": "user:ann@example.com"},
        expect=PASSES,
    ),
    Deploy(
        name="IAM policy JSON with editor to an unlisted group",
        type=AR_POLICY,
        props={**AR_TARGET, "policyData": policy_data(("roles/editor", ["group:devs@example.com"]))},
        expect=Blocks("roles/editor"),
    ),
    Deploy(
        name="public admin",
        type=B_MEMBER,
        props={"bucket": CR_BUCKET, "role": "roles/storage.admin", "member": "allUsers"},
        expect=Blocks("never go to a public principal"),
    ),
    Deploy(
        name="role unknown at preview",
        type=B_MEMBER,
        props={"bucket": CR_BUCKET, "role": U, "member": "user:a@example.com"},
        expect=CannotJudge("could not judge no-broad-admin"),
    ),
    Deploy(
        name="bad policyData JSON fails closed",
        type=B_POLICY,
        props={"bucket": CR_BUCKET, "policyData": "not json"},
        expect=Blocks("not a valid IAM policy JSON document"),
    ),
    Live(
        name="live: a person holds repoAdmin",
        inputs=Inputs(RegistryState(grants=(member("roles/artifactregistry.repoAdmin", "user:ana@example.com"),))),
        expect=Finds("admin-class roles never go to a person"),
    ),
    Deploy(
        name="every viewer of the project becomes bucket admin",
        type=B_MEMBER,
        props={"bucket": CR_BUCKET, "role": "roles/storage.admin", "member": "projectViewer:ml-prod"},
        expect=Blocks("admin-class roles never go to every viewer of project ml-prod"),
    ),
    Deploy(
        name="Cloud Storage's default owner grant to the project's editors",
        type=B_POLICY,
        props={"bucket": CR_BUCKET, "policyData": policy_data(
            ("roles/storage.legacyBucketOwner", ["projectEditor:ml-prod", "projectOwner:ml-prod"]),
            ("roles/storage.legacyBucketReader", ["projectViewer:ml-prod"]))},
        expect=PASSES,
    ),
    Deploy(
        name="a whole workload identity pool as repository admin, even when allow-listed",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.repoAdmin", "member": POOL},
        config={"allowedAdmins": [POOL]},
        expect=Blocks("admin-class roles never go to a set of identities"),
    ),
    Deploy(
        name="one workforce identity is a person",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.admin", "member": WORKFORCE_PERSON},
        expect=Blocks("admin-class roles never go to a person"),
    ),
    Deploy(
        name="one allow-listed workload identity may administer",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.repoAdmin", "member": WORKLOAD},
        config={"allowedAdmins": [WORKLOAD]},
        expect=PASSES,
    ),
    Deploy(
        name="project IAM admin can grant itself any role",
        type=P_MEMBER,
        props={"project": "ml-prod", "role": "roles/resourcemanager.projectIamAdmin",
               "member": "group:platform@example.com"},
        expect=Blocks("holds admin-class role roles/resourcemanager.projectIamAdmin on ml-prod"),
    ),
    Deploy(
        name="security admin on the folder can set any IAM policy below",
        type=F_BINDING,
        props={**FOLDER, "role": "roles/iam.securityAdmin", "members": ["group:sec@example.com"]},
        expect=Blocks("the principal is not on allowedAdmins"),
    ),
    Deploy(
        name="token creator on the project can act as every service account in it",
        type=P_MEMBER,
        props={"project": "ml-prod", "role": "roles/iam.serviceAccountTokenCreator",
               "member": "serviceAccount:deployer@ml-prod.iam.gserviceaccount.com"},
        expect=Blocks("holds admin-class role roles/iam.serviceAccountTokenCreator on ml-prod"),
    ),
    Deploy(
        name="an allow-listed group as organization owner",
        type=O_MEMBER,
        props={**ORG, "role": "roles/owner", "member": "group:registry-admins@example.com"},
        config={"allowedAdmins": ["group:registry-admins@example.com"]},
        expect=PASSES,
    ),
    Deploy(
        name="token creator on a service account is judged across the stack, not here",
        type=SA_MEMBER,
        props={**CI_SA_ID, "role": "roles/iam.serviceAccountTokenCreator", "member": "user:ana@example.com"},
        expect=PASSES,
    ),
    Deploy(
        name="a member spelled in no way Google Cloud defines cannot be judged",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.admin", "member": "everyone:acme"},
        expect=CannotJudge("who that is cannot be told"),
    ),
    # Effective access (scan --effective-access): inherited and impersonation paths.
    Live(
        name="live, effective: an admin role inherited from the organization",
        inputs=Inputs(effective(member("roles/artifactregistry.admin", "group:admins@example.com", ORG_REF))),
        expect=Finds(f"change IAM {AT_REPO}roles/artifactregistry.admin on organization organizations/1)"),
    ),
    Live(
        name="live, effective: setting the project's IAM is changing the repository's",
        inputs=Inputs(effective(member("roles/resourcemanager.projectIamAdmin", "domain:example.com", PROJECT_REF))),
        expect=Finds(f"domain:example.com can change IAM {AT_REPO}roles/resourcemanager.projectIamAdmin on project p)"),
    ),
    Live(
        name="live, effective: a person who may act as an account that administers the repository",
        inputs=Inputs(effective(member("roles/artifactregistry.repoAdmin", f"serviceAccount:{CI}", PROJECT_REF),
                                member("roles/iam.serviceAccountUser", "user:eve@example.com", CI_REF))),
        expect=Finds(f"(acting as {CI} (roles/iam.serviceAccountUser on service account {CI}), which holds "
                     "roles/artifactregistry.repoAdmin on project p"),
    ),
    Live(
        name="live, effective: an allow-listed admin group above the repository passes",
        inputs=Inputs(effective(member("roles/artifactregistry.admin", "group:admins@example.com", ORG_REF)),
                      Settings(allowed_admins=("group:admins@example.com",))),
        expect=PASSES,
    ),
    Live(
        name="live, effective: a custom role that could not be read cannot be judged",
        inputs=Inputs(effective(member("organizations/1/roles/releaser", "group:rel@example.com", FOLDER_REF),
                                custom_roles={"organizations/1/roles/releaser": None})),
        expect=CannotJudge("role organizations/1/roles/releaser could not be read"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
