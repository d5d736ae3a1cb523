"""required-labels: its cases at deploy time through the pack's policies, and live."""

from __future__ import annotations

from registry_guard.catalogue.model import RegistryState, Repository
from registry_guard.catalogue.rule import Inputs

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, CannotJudge, Case, Deploy, Finds, Live, Warns
from .live_state import REPO_REF
from .resources import REPO, U, repo

CASES: list[Case] = [
    Deploy(
        name="owner and model labels",
        type=REPO,
        props=repo(),
        expect=PASSES,
    ),
    Deploy(
        name="no labels",
        type=REPO,
        props={**repo(), "labels": None},
        expect=Warns("lacks label(s) owner, model"),
    ),
    Deploy(
        name="custom requiredLabels",
        type=REPO,
        props=repo(),
        expect=Warns("lacks label(s) team"),
        config={"requiredLabels": ["team"]},
    ),
    Deploy(
        name="labels from provider defaults (effectiveLabels)",
        type=REPO,
        props={**repo(), "labels": {"model": "llm"}, "effectiveLabels": {"owner": "ml", "model": "llm"}},
        expect=PASSES,
    ),
    Deploy(
        name="labels unknown at preview",
        type=REPO,
        props=repo(labels=U),
        expect=CannotJudge("labels are not known yet"),
    ),
    Deploy(
        name="empty owner value",
        type=REPO,
        props=repo(labels={"owner": "", "model": "llm"}),
        expect=Warns("lacks label(s) owner"),
    ),
    Live(
        name="live: a repository read with no labels",
        inputs=Inputs(RegistryState(repositories=(Repository(REPO_REF),))),
        expect=Finds("lacks label(s) owner, model"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
