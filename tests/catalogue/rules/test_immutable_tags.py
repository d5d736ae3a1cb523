"""immutable-tags: its cases at deploy time through the pack's policies, and live."""

from __future__ import annotations

from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE
from registry_guard.catalogue.model import RegistryState, Repository
from registry_guard.catalogue.rule import Inputs

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Blocks, CannotJudge, Case, Deploy, Finds, Live
from .live_state import REPO_REF
from .resources import REPO, U, repo

CASES: list[Case] = [
    Deploy(
        name="docker repository with immutable tags",
        type=REPO,
        props=repo(),
        expect=PASSES,
    ),
    Deploy(
        name="docker repository without dockerConfig",
        type=REPO,
        props={**repo(), "dockerConfig": None},
        expect=Blocks("immutable tags are off"),
    ),
    Deploy(
        name="docker repository with immutableTags false",
        type=REPO,
        props=repo(dockerConfig={"immutableTags": False}),
        expect=Blocks("immutable tags are off"),
    ),
    Deploy(
        name="maven repository is out of scope",
        type=REPO,
        props=repo(format="MAVEN", dockerConfig=None),
        expect=PASSES,
    ),
    Deploy(
        name="immutableTags unknown at preview",
        type=REPO,
        props=repo(dockerConfig={"immutableTags": UNKNOWN_BOOLEAN_VALUE}),
        expect=CannotJudge("dockerConfig.immutableTags is not known yet"),
    ),
    Deploy(
        name="format unknown at preview",
        type=REPO,
        props=repo(format=U),
        expect=CannotJudge("the repository format is not known yet"),
    ),
    Live(
        name="live: a repository read with the API's defaults has mutable tags",
        inputs=Inputs(RegistryState(repositories=(Repository(REPO_REF),))),
        expect=Finds("lets a version tag be moved to other content"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
