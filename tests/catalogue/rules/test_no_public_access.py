"""no-public-access: its cases at deploy time through the pack's policies, and live."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_pack.harness import analyze, servicer
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE
from registry_guard.catalogue.model import Condition, RegistryState
from registry_guard.catalogue.rule import Inputs

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Blocks, CannotJudge, Case, Deploy, Finds, Live, Warns
from .live_state import CI, CI_REF, FOLDER_REF, ORG_REF, PROJECT_REF, effective, member
from .resources import (
    AR_BINDING,
    AR_MEMBER,
    AR_POLICY,
    AR_TARGET,
    B_AC,
    B_ACL,
    B_BINDING,
    B_MEMBER,
    B_POLICY,
    CI_SA,
    CI_SA_ID,
    COND,
    CR_BUCKET,
    DO_AC,
    DO_ACL,
    F_MEMBER,
    FOLDER,
    LAYER,
    O_BINDING,
    OBJ_AC,
    OBJ_ACL,
    ORG,
    P_BINDING,
    P_MEMBER,
    P_POLICY,
    SA_MEMBER,
    SA_POLICY,
    U,
    policy_data,
)

AT_REPO = "on projects/p/locations/l/repositories/r ("

CASES: list[Case] = [
    Deploy(
        name="repository reader granted to a group",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.reader", "member": "group:ml@example.com"},
        expect=PASSES,
    ),
    Deploy(
        name="repository IAM member allUsers",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.reader", "member": "allUsers"},
        expect=Blocks("allUsers holds roles/artifactregistry.reader"),
    ),
    Deploy(
        name="repository IAM binding hides allAuthenticatedUsers among groups",
        type=AR_BINDING,
        props={
            **AR_TARGET,
            "role": "roles/artifactregistry.reader",
            "members": ["group:a@example.com", "allAuthenticatedUsers"],
        },
        expect=Blocks("allAuthenticatedUsers holds roles/artifactregistry.reader"),
    ),
    Deploy(
        name="repository IAM policy JSON with allUsers",
        type=AR_POLICY,
        props={**AR_TARGET, "policyData": policy_data(("roles/artifactregistry.reader", ["allUsers"]))},
        expect=Blocks("through the IAM policy"),
    ),
    Deploy(
        name="repository IAM policy that is not JSON",
        type=AR_POLICY,
        props={**AR_TARGET, "policyData": "{bindings: ["},
        expect=Blocks("not a valid IAM policy JSON document"),
    ),
    Deploy(
        name="bucket IAM member ALLUSERS in upper case",
        type=B_MEMBER,
        props={"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "member": "ALLUSERS"},
        expect=Blocks("allUsers holds roles/storage.objectViewer"),
    ),
    Deploy(
        name="bucket IAM binding with a condition is still public",
        type=B_BINDING,
        props={
            "bucket": CR_BUCKET,
            "role": "roles/storage.objectViewer",
            "members": ["allUsers"],
            "condition": COND,
        },
        expect=Blocks("its IAM condition does not make it safe"),
    ),
    Deploy(
        name="bucket IAM policy JSON with allAuthenticatedUsers",
        type=B_POLICY,
        props={
            "bucket": CR_BUCKET,
            "policyData": policy_data(("roles/storage.objectViewer", ["allAuthenticatedUsers"])),
        },
        expect=Blocks("allAuthenticatedUsers holds roles/storage.objectViewer"),
    ),
    Deploy(
        name="bucket access control entity allUsers",
        type=B_AC,
        props={"bucket": CR_BUCKET, "entity": "allUsers", "role": "READER"},
        expect=Blocks("allUsers holds acl:READER on artifacts.ml-prod.appspot.com through the bucket ACL"),
    ),
    Deploy(
        name="default object access control allAuthenticatedUsers",
        type=DO_AC,
        props={"bucket": CR_BUCKET, "entity": "allAuthenticatedUsers", "role": "READER"},
        expect=Blocks("through the default object ACL"),
    ),
    Deploy(
        name="bucket ACL roleEntities READER:allUsers",
        type=B_ACL,
        props={"bucket": CR_BUCKET, "roleEntities": ["OWNER:project-owners-123", "READER:allUsers"]},
        expect=Blocks("allUsers holds acl:READER"),
    ),
    Deploy(
        name="bucket ACL predefinedAcl publicRead",
        type=B_ACL,
        props={"bucket": CR_BUCKET, "predefinedAcl": "publicRead"},
        expect=Blocks("allUsers holds acl:READER"),
    ),
    Deploy(
        name="default object ACL roleEntities READER:allUsers",
        type=DO_ACL,
        props={"bucket": CR_BUCKET, "roleEntities": ["READER:allUsers"]},
        expect=Blocks("default object ACL"),
    ),
    Deploy(
        name="project IAM member allUsers with a storage role",
        type=P_MEMBER,
        props={"project": "ml-prod", "role": "roles/storage.objectViewer", "member": "allUsers"},
        expect=Blocks("allUsers holds roles/storage.objectViewer on ml-prod"),
    ),
    Deploy(
        name="project IAM member allUsers with a non-registry role",
        type=P_MEMBER,
        props={"project": "ml-prod", "role": "roles/logging.viewer", "member": "allUsers"},
        expect=PASSES,
    ),
    Deploy(
        name="project IAM binding allAuthenticatedUsers artifactregistry.reader",
        type=P_BINDING,
        props={
            "project": "ml-prod",
            "role": "roles/artifactregistry.reader",
            "members": ["allAuthenticatedUsers"],
        },
        expect=Blocks("allAuthenticatedUsers holds roles/artifactregistry.reader"),
    ),
    Deploy(
        name="project IAM policy with allUsers as viewer (basic role)",
        type=P_POLICY,
        props={"project": "ml-prod", "policyData": policy_data(("roles/viewer", ["allUsers"]))},
        expect=Blocks("allUsers holds roles/viewer"),
    ),
    Deploy(
        name="member unknown at preview",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.reader", "member": U},
        expect=CannotJudge("could not judge no-public-access"),
    ),
    Deploy(
        name="policyData unknown at preview",
        type=B_POLICY,
        props={"bucket": CR_BUCKET, "policyData": U},
        expect=CannotJudge("unknown at preview: .policyData"),
    ),
    Deploy(
        name="bucket ACL private",
        type=B_ACL,
        props={"bucket": CR_BUCKET, "predefinedAcl": "private"},
        expect=PASSES,
    ),
    Deploy(
        name="bucket ACL default object ACL publicRead",
        type=B_ACL,
        props={"bucket": CR_BUCKET, "roleEntities": ["OWNER:project-owners-1"], "defaultAcl": "publicRead"},
        expect=Blocks("through the default object ACL"),
    ),
    Deploy(
        name="members list unknown at preview",
        type=B_BINDING,
        props={"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "members": UNKNOWN_ARRAY_VALUE},
        expect=CannotJudge(".members"),
    ),
    Live(
        name="live: allAuthenticatedUsers in a repository's IAM policy",
        inputs=Inputs(RegistryState(grants=(member("roles/artifactregistry.reader", "allAuthenticatedUsers"),))),
        expect=Finds("allAuthenticatedUsers holds roles/artifactregistry.reader"),
    ),
    Deploy(
        name="folder IAM member allUsers with a registry role reaches every repository below",
        type=F_MEMBER,
        props={**FOLDER, "role": "roles/artifactregistry.reader", "member": "allUsers"},
        expect=Blocks("allUsers holds roles/artifactregistry.reader on folders/301234567890"),
    ),
    Deploy(
        name="organization IAM binding allAuthenticatedUsers with a storage role",
        type=O_BINDING,
        props={**ORG, "role": "roles/storage.objectViewer", "members": ["allAuthenticatedUsers"]},
        expect=Blocks("allAuthenticatedUsers holds roles/storage.objectViewer on organizations/123456789012"),
    ),
    Deploy(
        name="folder IAM member allUsers with a role that does not reach the registry",
        type=F_MEMBER,
        props={**FOLDER, "role": "roles/logging.viewer", "member": "allUsers"},
        expect=PASSES,
    ),
    Deploy(
        name="project IAM member allUsers as project IAM admin can grant itself anything",
        type=P_MEMBER,
        props={"project": "ml-prod", "role": "roles/resourcemanager.projectIamAdmin", "member": "allUsers"},
        expect=Blocks("allUsers holds roles/resourcemanager.projectIamAdmin on ml-prod"),
    ),
    Deploy(
        name="service account IAM member lets allUsers create its tokens",
        type=SA_MEMBER,
        props={**CI_SA_ID, "role": "roles/iam.serviceAccountTokenCreator", "member": "allUsers"},
        expect=Blocks(f"service account {CI_SA} through an IAM member: anyone can act as that account"),
    ),
    Deploy(
        name="service account IAM member lets a group act as it",
        type=SA_MEMBER,
        props={**CI_SA_ID, "role": "roles/iam.serviceAccountUser", "member": "group:release@example.com"},
        expect=PASSES,
    ),
    Deploy(
        name="service account IAM policy JSON with allAuthenticatedUsers as workload identity user",
        type=SA_POLICY,
        props={**CI_SA_ID, "policyData": policy_data(("roles/iam.workloadIdentityUser", ["allAuthenticatedUsers"]))},
        expect=Blocks("anyone can act as that account"),
    ),
    Deploy(
        name="object access control makes one image layer public",
        type=OBJ_AC,
        props={"bucket": CR_BUCKET, "object": LAYER, "role": "READER", "entity": "allUsers"},
        expect=Blocks(f"allUsers holds acl:READER on {CR_BUCKET}/{LAYER} through an object ACL"),
    ),
    Deploy(
        name="object ACL with the publicRead predefined ACL",
        type=OBJ_ACL,
        props={"bucket": CR_BUCKET, "object": LAYER, "predefinedAcl": "publicRead"},
        expect=Blocks("allUsers holds acl:READER"),
    ),
    Deploy(
        name="object ACL role entity READER:allAuthenticatedUsers",
        type=OBJ_ACL,
        props={"bucket": CR_BUCKET, "object": LAYER, "roleEntities": ["OWNER:user-ci@example.com",
                                                                       "READER:allAuthenticatedUsers"]},
        expect=Blocks("allAuthenticatedUsers holds acl:READER"),
    ),
    Deploy(
        name="object ACL for named users only",
        type=OBJ_ACL,
        props={"bucket": CR_BUCKET, "object": LAYER, "roleEntities": ["READER:group-ml@example.com"]},
        expect=PASSES,
    ),
    Deploy(
        name="an approved exception does not block, and says whose and until when",
        type=AR_MEMBER,
        props={**AR_TARGET, "repository": "public-demo", "role": "roles/artifactregistry.reader",
               "member": "allUsers"},
        config={"waivers": [{"resource": "repository:projects/ml-prod/locations/europe-west4/repositories/public-*",
                             "justification": "Public demo models, SEC-1234", "owner": "security@example.com",
                             "expires": "2099-12-31"}]},
        expect=Warns("[accepted risk until 2099-12-31, owner security@example.com: Public demo models, SEC-1234]"),
    ),
    Deploy(
        name="an expired exception blocks again, and says so",
        type=AR_MEMBER,
        props={**AR_TARGET, "repository": "public-demo", "role": "roles/artifactregistry.reader",
               "member": "allUsers"},
        config={"waivers": [{"resource": "repository:projects/ml-prod/locations/europe-west4/repositories/public-*",
                             "justification": "Public demo models, SEC-1234", "owner": "security@example.com",
                             "expires": "2020-01-31"}]},
        expect=Blocks("[its waiver expired on 2020-01-31]"),
    ),
    Deploy(
        name="an exception for another repository covers nothing here",
        type=AR_MEMBER,
        props={**AR_TARGET, "role": "roles/artifactregistry.reader", "member": "allUsers"},
        config={"waivers": [{"resource": "repository:*/repositories/public-*", "justification": "demo",
                             "owner": "security@example.com", "expires": "2099-12-31"}]},
        expect=Blocks("allUsers holds roles/artifactregistry.reader"),
    ),
    # Effective access (scan --effective-access): inherited and impersonation paths, conditions shown.
    Live(
        name="live, effective: allUsers can pull through a folder's grant",
        inputs=Inputs(effective(member("roles/viewer", "allUsers", FOLDER_REF))),
        expect=Finds(f"allUsers can pull {AT_REPO}roles/viewer on folder folders/20)"),
    ),
    Live(
        name="live, effective: a condition does not make an inherited public grant safe",
        inputs=Inputs(effective(dataclasses.replace(
            member("roles/artifactregistry.writer", "allAuthenticatedUsers", ORG_REF),
            condition=Condition("request.time < timestamp('2027-01-01T00:00:00Z')", "until 2027")))),
        expect=Finds("if until 2027; an IAM condition does not make it safe)"),
    ),
    Live(
        name="live, effective: anyone may act as an account that pushes",
        inputs=Inputs(effective(member("roles/artifactregistry.writer", f"serviceAccount:{CI}"),
                                member("roles/iam.serviceAccountTokenCreator", "allUsers", CI_REF))),
        expect=Finds(f"allUsers can pull, push new versions, move or overwrite tags {AT_REPO}acting as {CI}"),
    ),
    Live(
        name="live, effective: named principals above the repository pass",
        inputs=Inputs(effective(member("roles/viewer", "group:ml@example.com", PROJECT_REF))),
        expect=PASSES,
    ),
    Live(
        name="live, effective: a folder policy that could not be read cannot be judged",
        inputs=Inputs(effective(unread={FOLDER_REF: "Forbidden (403): denied"})),
        expect=CannotJudge("the IAM policy of folder folders/20 could not be read"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)


# --- properties: a public principal hidden anywhere, in any IAM or ACL shape, any casing, is always found.
#
# Why property-based: the fixtures prove the shapes one by one; this proves no spelling, position or
# condition lets `allUsers` / `allAuthenticatedUsers` slip past (the way GCP compares them: the keyword is
# case-insensitive, a `deleted:` prefix does not change who gets access, a condition never makes it safe).

SERVICE = servicer()  # Analyze does not mutate it; building one per example would dominate the run time

KEYWORDS = ("allUsers", "allAuthenticatedUsers")
BENIGN_MEMBERS = st.sampled_from(
    [
        "group:ml@example.com",
        "serviceAccount:ci@p.iam.gserviceaccount.com",
        "user:ann@example.com",
        "domain:example.com",
        "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/*",
    ]
)
BENIGN_ENTITIES = st.sampled_from(
    ["user-ann@example.com", "group-ml@example.com", "project-owners-123", "domain-example.com"]
)


@st.composite
def cased(draw: st.DrawFn) -> str:
    keyword = draw(st.sampled_from(KEYWORDS))
    flips = draw(st.lists(st.booleans(), min_size=len(keyword), max_size=len(keyword)))
    return "".join(c.swapcase() if flip else c for c, flip in zip(keyword, flips, strict=True))


@st.composite
def hidden(draw: st.DrawFn, others: st.SearchStrategy[str], public: str) -> list[str]:
    members = draw(st.lists(others, max_size=5))
    members.insert(draw(st.integers(0, len(members))), public)
    return members


@st.composite
def iam_case(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    public = draw(cased())
    if draw(st.booleans()):
        public = draw(st.sampled_from(["deleted:", "DELETED:"])) + public
    members = draw(hidden(BENIGN_MEMBERS, public))
    condition = COND if draw(st.booleans()) else None
    kind = draw(st.sampled_from(["repository", "bucket", "project"]))
    role = {
        "repository": "roles/artifactregistry.reader",
        "bucket": "roles/storage.objectViewer",
        "project": draw(
            st.sampled_from(
                [
                    "roles/storage.objectViewer",
                    "roles/artifactregistry.reader",
                    "roles/viewer",
                    "projects/p/roles/custom",
                ]
            )
        ),
    }[kind]
    target = {"repository": AR_TARGET, "bucket": {"bucket": CR_BUCKET}, "project": {"project": "ml-prod"}}[
        kind
    ]
    shape = draw(st.sampled_from(["member", "binding", "policy"]))
    types = {
        ("repository", "member"): AR_MEMBER,
        ("repository", "binding"): AR_BINDING,
        ("repository", "policy"): AR_POLICY,
        ("bucket", "member"): B_MEMBER,
        ("bucket", "binding"): B_BINDING,
        ("bucket", "policy"): B_POLICY,
        ("project", "member"): P_MEMBER,
        ("project", "binding"): P_BINDING,
        ("project", "policy"): P_POLICY,
    }
    if shape == "member":
        props: dict[str, Any] = {**target, "role": role, "member": public}
        if condition:
            props["condition"] = condition
    elif shape == "binding":
        props = {**target, "role": role, "members": members}
        if condition:
            props["condition"] = condition
    else:
        bindings = [{"role": "roles/artifactregistry.writer", "members": ["group:ci@example.com"]}]
        binding: dict[str, Any] = {"role": role, "members": members}
        if condition:
            binding["condition"] = condition
        bindings.insert(draw(st.integers(0, 1)), binding)
        props = {**target, "policyData": json.dumps({"version": 3, "bindings": bindings})}
    return types[(kind, shape)], props


@st.composite
def acl_case(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    public = draw(cased())
    role = draw(st.sampled_from(["READER", "WRITER", "OWNER", "reader"]))
    kind = draw(st.sampled_from(["access-control", "default-access-control", "acl", "default-acl"]))
    if kind in ("access-control", "default-access-control"):
        return (B_AC if kind == "access-control" else DO_AC), {
            "bucket": CR_BUCKET,
            "entity": public,
            "role": role,
        }
    entities = draw(hidden(BENIGN_ENTITIES.map(lambda e: f"OWNER:{e}"), f"{role}:{public}"))
    return (B_ACL if kind == "acl" else DO_ACL), {"bucket": CR_BUCKET, "roleEntities": entities}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(iam_case(), acl_case()))
def test_public_principal_is_always_found(case: tuple[str, dict[str, Any]]) -> None:
    type_token, props = case
    found = [d for d in analyze(type_token, props, service=SERVICE) if d.policy == "no-public-access"]
    assert any(d.level == "mandatory" for d in found), (type_token, props, found)


@settings(max_examples=50, deadline=None)
@given(st.lists(BENIGN_MEMBERS, min_size=1, max_size=5))
def test_no_public_principal_no_public_finding(members: list[str]) -> None:
    props = {**AR_TARGET, "role": "roles/artifactregistry.reader", "members": members}
    assert not [d for d in analyze(AR_BINDING, props, service=SERVICE) if d.policy == "no-public-access"]
