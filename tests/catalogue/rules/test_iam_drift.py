"""iam-drift: live IAM against the IAM the stack declares."""

from __future__ import annotations

from registry_guard.catalogue.model import UNKNOWN, Grant, RegistryState
from registry_guard.catalogue.rule import Inputs, Stage

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Case, Finds, Live
from .live_state import BUCKET_REF, REPO_REF, member

READER = "roles/artifactregistry.reader"
DECLARED = RegistryState(grants=(Grant(REPO_REF, READER, "group:ml@example.com", "iam-member", source="urn:member"),))


def drift(*live: Grant, read: bool = True) -> Inputs:
    state = RegistryState(grants=live, iam_complete_targets=frozenset({REPO_REF, BUCKET_REF} if read else ()))
    return Inputs(state, declared=DECLARED)


CASES: list[Case] = [
    Live(
        name="live IAM holds exactly what the stack declares",
        inputs=drift(member(READER, "group:ML@example.com")),
        stage=Stage.DECLARED,
        expect=PASSES,
    ),
    Live(
        name="a member the stack does not declare",
        inputs=drift(member(READER, "group:ml@example.com"),
                     member("roles/artifactregistry.admin", "user:x@example.com")),
        stage=Stage.DECLARED,
        expect=Finds("user:x@example.com holds roles/artifactregistry.admin on projects/p/locations/l/repositories/r "
                     "live, but the stack does not declare it"),
    ),
    Live(
        name="a declared member missing live",
        inputs=drift(),
        stage=Stage.DECLARED,
        expect=Finds("the stack declares group:ml@example.com with roles/artifactregistry.reader"),
    ),
    Live(
        name="a target whose live IAM could not be read proves nothing",
        inputs=drift(read=False),
        stage=Stage.DECLARED,
        expect=PASSES,
    ),
    Live(
        name="Cloud Storage's default project bindings on a bucket are not drift",
        inputs=Inputs(
            RegistryState(grants=(member("roles/storage.legacyBucketOwner", "projectOwner:p", BUCKET_REF),),
                          iam_complete_targets=frozenset({BUCKET_REF})),
            declared=RegistryState(grants=(Grant(BUCKET_REF, "roles/storage.objectViewer", UNKNOWN, "iam-member"),)),
        ),
        stage=Stage.DECLARED,
        expect=PASSES,
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
