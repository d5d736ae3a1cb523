"""version-deleted: the live inventory against an earlier scan's."""

from __future__ import annotations

from registry_guard.catalogue.model import RegistryState
from registry_guard.catalogue.rule import Inputs, Stage

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, Case, Finds, Live
from .live_state import REPO_REF, image

BEFORE = RegistryState(images=(image(("v1.0.0",), image_digest="sha256:a"), image(("dev",))))


def history(now: RegistryState, unread: frozenset[str] = frozenset()) -> Inputs:
    return Inputs(now, previous=BEFORE, unread=unread)


CASES: list[Case] = [
    Live(
        name="every recorded version is still there",
        inputs=history(BEFORE),
        stage=Stage.HISTORY,
        expect=PASSES,
    ),
    Live(
        name="the version tag and its digest are gone",
        inputs=history(RegistryState()),
        stage=Stage.HISTORY,
        expect=Finds("llm:v1.0.0 in projects/p/locations/l/repositories/r is gone, and so is its digest sha256:a"),
    ),
    Live(
        name="the version tag is gone but its digest is kept untagged",
        inputs=history(RegistryState(images=(image((), image_digest="sha256:a"),))),
        stage=Stage.HISTORY,
        expect=Finds("its digest sha256:a is still there under other tags or untagged"),
    ),
    Live(
        name="absences in a repository the scan could not read prove nothing",
        inputs=history(RegistryState(), frozenset({REPO_REF.name})),
        stage=Stage.HISTORY,
        expect=PASSES,
    ),
    Live(
        name="absences in one image path the scan could not read prove nothing",
        inputs=history(RegistryState(), frozenset({f"{REPO_REF.name}/llm"})),
        stage=Stage.HISTORY,
        expect=PASSES,
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
