"""impersonation-paths: whole stacks through the pack's stack policy."""

from __future__ import annotations

from itertools import pairwise

from policy_pack.harness import StackItem
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Blocks, CannotJudge, Case, DeployStack, Warns
from .resources import AR_MEMBER, AR_TARGET, CI_SA, CI_SA_ID, P_MEMBER, SA_BINDING, SA_MEMBER, WORKLOAD

CI = f"serviceAccount:{CI_SA}"
PUSHER = StackItem(AR_MEMBER, "ci-writer", {**AR_TARGET, "role": "roles/artifactregistry.writer", "member": CI})
ADMIN = StackItem(AR_MEMBER, "ci-admin", {**AR_TARGET, "role": "roles/artifactregistry.repoAdmin", "member": CI})


def acting(member: str, role: str = "roles/iam.serviceAccountTokenCreator", name: str = "act") -> StackItem:
    return StackItem(SA_MEMBER, name, {**CI_SA_ID, "role": role, "member": member})


def sa(name: str) -> str:
    return f"{name}@ml-prod.iam.gserviceaccount.com"


def chain(*names: str) -> list[StackItem]:
    """Each account may act as the one before it, the first as the CI account (which pushes)."""
    acted = [CI_SA, *map(sa, names)]
    return [StackItem(SA_MEMBER, f"act-{actor}", {"serviceAccountId": f"projects/ml-prod/serviceAccounts/{target}",
                                                  "role": "roles/iam.serviceAccountTokenCreator",
                                                  "member": f"serviceAccount:{actor}"})
            for target, actor in pairwise(acted)]


def person_acting_as(account: str) -> StackItem:
    return StackItem(SA_MEMBER, "ana-acts", {"serviceAccountId": f"projects/ml-prod/serviceAccounts/{account}",
                                             "role": "roles/iam.serviceAccountTokenCreator",
                                             "member": "user:ana@example.com"})


CASES: list[Case] = [
    DeployStack(
        name="only the workload that runs as the CI account may act as it",
        resources=[PUSHER, acting(WORKLOAD, "roles/iam.workloadIdentityUser")],
        expect=PASSES,
    ),
    DeployStack(
        name="a person may mint tokens for the account that pushes",
        resources=[PUSHER, acting("user:ana@example.com")],
        expect=Blocks(f"user:ana@example.com may act as {CI_SA} (roles/iam.serviceAccountTokenCreator), which holds "
                      "roles/artifactregistry.writer on projects/ml-prod/locations/europe-west4/repositories/models"
                      ": a person may not write to the registry"),
    ),
    DeployStack(
        name="a whole domain may act as the account that pushes",
        resources=[PUSHER, StackItem(SA_BINDING, "act", {**CI_SA_ID, "role": "roles/iam.serviceAccountUser",
                                                         "members": ["domain:example.com"]})],
        expect=Blocks("a whole domain may not write to the registry"),
    ),
    DeployStack(
        name="a group not on allowedAdmins may act as an account that administers a repository",
        resources=[ADMIN, acting("group:platform@example.com")],
        expect=Blocks("the principal is not on allowedAdmins"),
    ),
    DeployStack(
        name="an allow-listed group may act as an account that administers a repository",
        resources=[ADMIN, acting("group:platform@example.com")],
        config={"allowedAdmins": ["group:platform@example.com"]},
        expect=PASSES,
    ),
    DeployStack(
        name="a group may act as an account that only pushes",
        resources=[PUSHER, acting("group:release@example.com")],
        expect=PASSES,
    ),
    DeployStack(
        name="acting as an account that cannot write to the registry",
        resources=[acting("user:ana@example.com")],
        expect=PASSES,
    ),
    DeployStack(
        name="the account writes through the project's IAM",
        resources=[StackItem(P_MEMBER, "project-writer", {"project": "ml-prod", "role": "roles/artifactregistry.writer",
                                                          "member": CI}),
                   acting("user:ana@example.com")],
        expect=Blocks("which holds roles/artifactregistry.writer on ml-prod"),
    ),
    DeployStack(
        name="a person may act as an account that may act as the account that pushes",
        resources=[PUSHER, *chain("deployer"), person_acting_as(sa("deployer"))],
        expect=Blocks(f"user:ana@example.com may act as {sa('deployer')} (roles/iam.serviceAccountTokenCreator), "
                      f"which may act as {CI_SA}, which holds roles/artifactregistry.writer on projects/ml-prod/"
                      "locations/europe-west4/repositories/models: a person may not write to the registry"),
    ),
    DeployStack(
        name="a chain of four accounts to the one that pushes is followed",
        resources=[PUSHER, *chain("a2", "a3", "a4"), person_acting_as(sa("a4"))],
        expect=Blocks(f"which may act as {sa('a3')}, which may act as {sa('a2')}, which may act as {CI_SA}, "
                      "which holds roles/artifactregistry.writer"),
    ),
    DeployStack(
        name="a chain longer than four accounts could not be judged",
        resources=[PUSHER, *chain("a2", "a3", "a4", "a5"), person_acting_as(sa("a5"))],
        expect=CannotJudge(f"who may act as {sa('a5')} is not followed: it acts through a chain of 4 service "
                           "accounts already, the longest followed"),
    ),
    DeployStack(
        name="two accounts that may act as each other, neither writing, is no path",
        resources=[*chain("deployer"), StackItem(SA_MEMBER, "back", {
            "serviceAccountId": f"projects/ml-prod/serviceAccounts/{sa('deployer')}",
            "role": "roles/iam.serviceAccountTokenCreator", "member": f"serviceAccount:{CI_SA}"}),
            person_acting_as(sa("deployer"))],
        expect=PASSES,
    ),
    DeployStack(
        name="the account acted as is not known yet",
        resources=[PUSHER, StackItem(SA_MEMBER, "act", {"serviceAccountId": UNKNOWN_STRING_VALUE,
                                                        "role": "roles/iam.serviceAccountTokenCreator",
                                                        "member": "user:ana@example.com"})],
        expect=CannotJudge("may act as a service account that is not known yet"),
    ),
    DeployStack(
        name="an approved exception for a path across the stack does not block",
        resources=[PUSHER, acting("user:ana@example.com")],
        config={"waivers": [{"resource": f"service-account:{CI_SA}", "justification": "break-glass, SEC-9",
                             "owner": "security@example.com", "expires": "2099-12-31"}]},
        expect=Warns("[accepted risk until 2099-12-31, owner security@example.com: break-glass, SEC-9]"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
