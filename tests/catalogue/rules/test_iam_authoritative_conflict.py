"""iam-authoritative-conflict: its cases at deploy time, through the pack's policies as the engine calls them."""

from __future__ import annotations

from policy_pack.harness import StackItem

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Blocks, CannotJudge, Case, DeployStack
from .resources import (
    AR_BINDING,
    AR_MEMBER,
    AR_POLICY,
    AR_TARGET,
    B_BINDING,
    B_MEMBER,
    B_POLICY,
    CI_SA_ID,
    COND,
    CR_BUCKET,
    GCR,
    P_MEMBER,
    P_POLICY,
    SA_MEMBER,
    SA_POLICY,
    U,
    policy_data,
)

CASES: list[Case] = [
    DeployStack(
        name="one authoritative policy alone",
        resources=[StackItem(AR_POLICY, "policy", {**AR_TARGET, "policyData": policy_data()})],
        expect=PASSES,
    ),
    DeployStack(
        name="authoritative policy and a member on the same repository",
        resources=[
            StackItem(AR_POLICY, "policy", {**AR_TARGET, "policyData": policy_data()}),
            StackItem(
                AR_MEMBER,
                "member",
                {**AR_TARGET, "role": "roles/artifactregistry.reader", "member": "group:a@example.com"},
            ),
        ],
        expect=Blocks("1 authoritative IAM policy resource(s) and 1 binding/member resource(s)"),
    ),
    DeployStack(
        name="two bindings for one role on one bucket",
        resources=[
            StackItem(
                B_BINDING,
                "b1",
                {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "members": []},
            ),
            StackItem(
                B_BINDING,
                "b2",
                {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "members": []},
            ),
        ],
        expect=Blocks("2 IAM binding(s) and 0 member resource(s) set role roles/storage.objectViewer"),
    ),
    DeployStack(
        name="binding and member for one role",
        resources=[
            StackItem(
                B_BINDING,
                "b1",
                {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "members": []},
            ),
            StackItem(
                B_MEMBER,
                "m1",
                {
                    "bucket": CR_BUCKET,
                    "role": "roles/storage.objectViewer",
                    "member": "group:a@example.com",
                },
            ),
        ],
        expect=Blocks("resources: b1, m1"),
    ),
    DeployStack(
        name="bindings for different roles",
        resources=[
            StackItem(
                B_BINDING,
                "b1",
                {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "members": []},
            ),
            StackItem(
                B_BINDING, "b2", {"bucket": CR_BUCKET, "role": "roles/storage.admin", "members": []}
            ),
        ],
        expect=PASSES,
    ),
    DeployStack(
        name="bucket named through the registry it was computed from",
        resources=[
            StackItem(GCR, "registry", {"project": "ml-prod"}),
            StackItem(
                B_MEMBER,
                "m1",
                {"bucket": U, "role": "roles/storage.objectViewer", "member": "group:a@example.com"},
                {"bucket": ["registry"]},
            ),
            StackItem(B_POLICY, "p1", {"bucket": CR_BUCKET, "policyData": policy_data()}),
        ],
        expect=Blocks("manage artifacts.ml-prod.appspot.com"),
    ),
    DeployStack(
        name="target unknown with nothing to name it",
        resources=[
            StackItem(
                B_MEMBER,
                "m1",
                {"bucket": U, "role": "roles/storage.objectViewer", "member": "group:a@example.com"},
            )
        ],
        expect=CannotJudge("could not judge iam-authoritative-conflict"),
    ),
    DeployStack(
        name="project IAM policy and a project IAM member",
        resources=[
            StackItem(P_POLICY, "pp", {"project": "ml-prod", "policyData": policy_data()}),
            StackItem(
                P_MEMBER,
                "pm",
                {"project": "ml-prod", "role": "roles/viewer", "member": "group:a@example.com"},
            ),
        ],
        expect=Blocks("manage ml-prod"),
    ),
    DeployStack(
        name="same repository spelled as full name and as short id",
        resources=[
            StackItem(
                AR_BINDING, "b1", {**AR_TARGET, "role": "roles/artifactregistry.reader", "members": []}
            ),
            StackItem(
                AR_BINDING,
                "b2",
                {
                    "repository": "projects/ml-prod/locations/europe-west4/repositories/models",
                    "role": "roles/artifactregistry.reader",
                    "members": [],
                },
            ),
        ],
        expect=Blocks("2 IAM binding(s)"),
    ),
    DeployStack(
        name="same role on two different repositories",
        resources=[
            StackItem(
                AR_BINDING, "b1", {**AR_TARGET, "role": "roles/artifactregistry.reader", "members": []}
            ),
            StackItem(
                AR_BINDING,
                "b2",
                {
                    **AR_TARGET,
                    "repository": "other",
                    "role": "roles/artifactregistry.reader",
                    "members": [],
                },
            ),
        ],
        expect=PASSES,
    ),
    DeployStack(
        name="two bindings for one role with different conditions do not conflict",
        resources=[
            StackItem(B_BINDING, "office", {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer",
                                            "members": ["group:a@example.com"], "condition": COND}),
            StackItem(B_BINDING, "always", {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer",
                                            "members": ["group:b@example.com"]}),
        ],
        expect=PASSES,
    ),
    DeployStack(
        name="two bindings for one role with the same condition conflict, and the message names what is lost",
        resources=[
            StackItem(B_BINDING, "b1", {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer",
                                        "members": ["group:a@example.com"], "condition": COND}),
            StackItem(B_BINDING, "b2", {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer",
                                        "members": ["group:b@example.com"], "condition": COND}),
        ],
        expect=Blocks("whichever is applied last removes the members the other bindings set: b1 "
                      "(roles/storage.objectViewer: group:a@example.com); b2 (roles/storage.objectViewer: "
                      "group:b@example.com)"),
    ),
    DeployStack(
        name="a binding removes a member resource's grant of the same role",
        resources=[
            StackItem(AR_BINDING, "readers", {**AR_TARGET, "role": "roles/artifactregistry.reader",
                                              "members": ["group:ml@example.com"]}),
            StackItem(AR_MEMBER, "ci-reader", {**AR_TARGET, "role": "roles/artifactregistry.reader",
                                               "member": "serviceAccount:ci@ml-prod.iam.gserviceaccount.com"}),
        ],
        expect=Blocks("applying readers removes the grants of ci-reader (roles/artifactregistry.reader: "
                      "serviceAccount:ci@ml-prod.iam.gserviceaccount.com)"),
    ),
    DeployStack(
        name="an authoritative policy on a service account and a member on it",
        resources=[
            StackItem(SA_POLICY, "sa-policy", {**CI_SA_ID, "policyData": policy_data()}),
            StackItem(SA_MEMBER, "sa-member", {**CI_SA_ID, "role": "roles/iam.serviceAccountUser",
                                               "member": "group:deployers@example.com"}),
        ],
        expect=Blocks("when sa-policy is applied it replaces the whole policy and the grants of sa-member "
                      "(roles/iam.serviceAccountUser: group:deployers@example.com) are removed"),
    ),
    DeployStack(
        name="the condition of a binding is not known yet",
        resources=[
            StackItem(B_BINDING, "b1", {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer",
                                        "members": ["group:a@example.com"], "condition": U}),
        ],
        expect=CannotJudge("the IAM condition of b1 is not known yet"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
