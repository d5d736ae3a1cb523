"""customer-managed-encryption: its cases at deploy time through the pack's policies, and live."""

from __future__ import annotations

from registry_guard.catalogue.model import RegistryState, Repository
from registry_guard.catalogue.rule import Inputs

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, CannotJudge, Case, Deploy, Finds, Live, Warns
from .live_state import REPO_REF
from .resources import REPO, U, repo

CASES: list[Case] = [
    Deploy(
        name="repository with a KMS key",
        type=REPO,
        props=repo(),
        expect=PASSES,
    ),
    Deploy(
        name="repository without a KMS key",
        type=REPO,
        props={**repo(), "kmsKeyName": None},
        expect=Warns("Google-managed key"),
    ),
    Deploy(
        name="KMS key unknown at preview",
        type=REPO,
        props=repo(kmsKeyName=U),
        expect=CannotJudge("kmsKeyName is not known yet"),
    ),
    Live(
        name="live: a repository read with the API's defaults uses a Google-managed key",
        inputs=Inputs(RegistryState(repositories=(Repository(REPO_REF),))),
        expect=Finds("is encrypted with a Google-managed key"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
