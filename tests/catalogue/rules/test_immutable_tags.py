"""immutable-tags: its cases at deploy time through the pack's policies, and live."""

from __future__ import annotations

from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE
from registry_guard.catalogue.model import RegistryState, Repository
from registry_guard.catalogue.rule import Inputs

from audit.offline_check.analyzer import PolicyPackClient, Resource

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
    Deploy(
        name="a remote repository is not pushed to: immutable tags do not apply",
        type=REPO,
        props=repo(mode="REMOTE_REPOSITORY", dockerConfig=None),
        expect=PASSES,
    ),
    Deploy(
        name="a virtual repository is not pushed to either",
        type=REPO,
        props=repo(mode="VIRTUAL_REPOSITORY", dockerConfig={"immutableTags": False}),
        expect=PASSES,
    ),
    Deploy(
        name="the repository mode is not known yet",
        type=REPO,
        props=repo(mode=U, dockerConfig={"immutableTags": False}),
        expect=CannotJudge("the repository mode is not known yet"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)


def test_remediation_sets_immutable_tags_only_on_standard_docker_repositories(configured: PolicyPackClient) -> None:
    """At level remediate the fix turns immutable tags on where that is certain, and never gives a remote or
    virtual repository a dockerConfig (they take none: nothing is pushed to them)."""
    configured.configure({"immutable-tags": {"enforcementLevel": "remediate"}})
    fixed = {}
    for mode in ("STANDARD_REPOSITORY", "REMOTE_REPOSITORY", "VIRTUAL_REPOSITORY"):
        props = repo(mode=mode, dockerConfig=None)
        remediations = configured.remediate(Resource(REPO, mode, f"urn:pulumi:dev::p::{REPO}::{mode}", props))
        fixed[mode] = [r.properties for r in remediations if r.properties is not None]
    assert [p["dockerConfig"] for p in fixed["STANDARD_REPOSITORY"]] == [{"immutableTags": True}]
    assert fixed["REMOTE_REPOSITORY"] == [] and fixed["VIRTUAL_REPOSITORY"] == []
