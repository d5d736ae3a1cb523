"""version-tag-required: its cases at deploy time through the pack's policies, and live."""

from __future__ import annotations

from registry_guard.catalogue.model import RegistryState
from registry_guard.catalogue.rule import Inputs

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Blocks, CannotJudge, Case, Deploy, Finds, Live
from .live_state import image
from .resources import AR_HOST, BUILD_IMAGE, IMAGE, U

CASES: list[Case] = [
    Deploy(
        name="pulumi-docker image with a version tag",
        type=IMAGE,
        props={"imageName": f"{AR_HOST}/llm:v1.2.0"},
        expect=PASSES,
    ),
    Deploy(
        name="pulumi-docker image tagged latest",
        type=IMAGE,
        props={"imageName": f"{AR_HOST}/llm:latest"},
        expect=Blocks("is tagged only latest"),
    ),
    Deploy(
        name="pulumi-docker image with no tag pushes latest",
        type=IMAGE,
        props={"imageName": f"{AR_HOST}/llm"},
        expect=Blocks("is tagged only latest"),
    ),
    Deploy(
        name="docker-build image with latest and a version",
        type=BUILD_IMAGE,
        props={"push": True, "tags": [f"{AR_HOST}/llm:latest", f"{AR_HOST}/llm:1.0.0-rc.1"]},
        expect=PASSES,
    ),
    Deploy(
        name="docker-build image with dev and latest only",
        type=BUILD_IMAGE,
        props={"push": True, "tags": [f"{AR_HOST}/llm:dev", f"{AR_HOST}/llm:latest"]},
        expect=Blocks("dev, latest"),
    ),
    Deploy(
        name="docker-build image that is not pushed",
        type=BUILD_IMAGE,
        props={"push": False, "tags": [f"{AR_HOST}/llm:latest"]},
        expect=PASSES,
    ),
    Deploy(
        name="image pushed to Docker Hub is not the registry",
        type=IMAGE,
        props={"imageName": "docker.io/library/llm:latest"},
        expect=PASSES,
    ),
    Deploy(
        name="Container Registry image tagged latest",
        type=IMAGE,
        props={"imageName": "eu.gcr.io/ml-prod/llm:latest"},
        expect=Blocks("no tag matches the version pattern"),
    ),
    Deploy(
        name="custom versionTagPattern",
        type=IMAGE,
        props={"imageName": f"{AR_HOST}/llm:model-7"},
        expect=PASSES,
        config={"versionTagPattern": r"^model-\d+$"},
    ),
    Deploy(
        name="custom versionTagPattern rejects semver",
        type=IMAGE,
        props={"imageName": f"{AR_HOST}/llm:v1.0.0"},
        expect=Blocks("is tagged only v1.0.0"),
        config={"versionTagPattern": r"^model-\d+$"},
    ),
    Deploy(
        name="imageName unknown at preview",
        type=IMAGE,
        props={"imageName": U},
        expect=CannotJudge("imageName is not known yet"),
    ),
    Deploy(
        name="pulumi-docker skipPush",
        type=IMAGE,
        props={"imageName": f"{AR_HOST}/llm:latest", "skipPush": True},
        expect=PASSES,
    ),
    Deploy(
        name="docker-build tag unknown at preview may be the version",
        type=BUILD_IMAGE,
        props={"push": True, "tags": [f"{AR_HOST}/llm:latest", U]},
        expect=CannotJudge("tags[1] is not known yet"),
    ),
    Deploy(
        name="docker-build tag unknown at preview is reported",
        type=BUILD_IMAGE,
        props={"push": True, "tags": [U]},
        expect=CannotJudge("tags[0] is not known yet"),
    ),
    Live(
        name="live: an image tagged only latest",
        inputs=Inputs(RegistryState(images=(image(("latest",)), image(("v1.0.0", "latest")), image(())))),
        expect=Finds("is tagged only latest: no tag matches the version pattern"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
