"""version-tag-moved: the live inventory against an earlier scan's."""

from __future__ import annotations

from registry_guard.catalogue.model import RegistryState
from registry_guard.catalogue.rule import Inputs, Stage

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Case, Finds, Live
from .live_state import REPO_REF, image

BEFORE = RegistryState(images=(image(("v1.0.0", "latest"), image_digest="sha256:a"),))


def history(now: RegistryState, unread: frozenset[str] = frozenset()) -> Inputs:
    return Inputs(now, previous=BEFORE, unread=unread)


CASES: list[Case] = [
    Live(
        name="the version tag still points at the recorded digest",
        inputs=history(RegistryState(images=(image(("v1.0.0",), image_digest="sha256:a"),))),
        stage=Stage.HISTORY,
        expect=PASSES,
    ),
    Live(
        name="the version tag points at another digest",
        inputs=history(RegistryState(images=(image(("v1.0.0",), image_digest="sha256:b"),))),
        stage=Stage.HISTORY,
        expect=Finds("llm:v1.0.0 in projects/p/locations/l/repositories/r now points to sha256:b"),
    ),
    Live(
        name="a moved non-version tag is not a released version",
        inputs=history(RegistryState(images=(image(("v1.0.0",), image_digest="sha256:a"),
                                             image(("latest",), image_digest="sha256:c")))),
        stage=Stage.HISTORY,
        expect=PASSES,
    ),
    Live(
        name="a version gone from a repository that was not read is not a move",
        inputs=history(RegistryState(), frozenset({REPO_REF.name})),
        stage=Stage.HISTORY,
        expect=PASSES,
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
