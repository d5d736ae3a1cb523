"""config-drift: live repository and bucket settings against what the stack declares."""

from __future__ import annotations

from registry_guard.catalogue.model import UNKNOWN, Bucket, RegistryState
from registry_guard.catalogue.rule import Inputs, Stage

from .cases import PASSES, Case, Finds, Live
from .live_state import BUCKET_REF, repository


def drift(declared: RegistryState, live: RegistryState) -> Inputs:
    return Inputs(live, declared=declared)


DECLARED = RegistryState(repositories=(repository(),))

CASES: list[Case] = [
    Live(
        name="live settings are the declared ones",
        inputs=drift(DECLARED, RegistryState(repositories=(repository(),))),
        stage=Stage.DECLARED,
        expect=PASSES,
    ),
    Live(
        name="immutable tags turned off live",
        inputs=drift(DECLARED, RegistryState(repositories=(repository(immutable_tags=False),))),
        stage=Stage.DECLARED,
        expect=Finds("immutableTags on projects/p/locations/l/repositories/r is False live; the stack declares True"),
    ),
    Live(
        name="labels Google or the provider add are not the stack's intent",
        inputs=drift(DECLARED, RegistryState(repositories=(
            repository(labels={"owner": "ml", "model": "llm", "goog-managed": "x"}),))),
        stage=Stage.DECLARED,
        expect=PASSES,
    ),
    Live(
        name="a setting the stack leaves unknown is not compared",
        inputs=drift(RegistryState(repositories=(repository(kms_key_name=UNKNOWN),)),
                     RegistryState(repositories=(repository(kms_key_name=None),))),
        stage=Stage.DECLARED,
        expect=PASSES,
    ),
    Live(
        name="public access prevention relaxed on a bucket",
        inputs=drift(RegistryState(buckets=(Bucket(BUCKET_REF, True, "enforced"),)),
                     RegistryState(buckets=(Bucket(BUCKET_REF, True, "inherited"),))),
        stage=Stage.DECLARED,
        expect=Finds("publicAccessPrevention on bucket artifacts.p.appspot.com is inherited live"),
    ),
    Live(
        name="unspecified public access prevention is inherited",
        inputs=drift(RegistryState(buckets=(Bucket(BUCKET_REF, True, "inherited"),)),
                     RegistryState(buckets=(Bucket(BUCKET_REF, True, "unspecified"),))),
        stage=Stage.DECLARED,
        expect=PASSES,
    ),
]


def test_case(case: Case, rule_id: str) -> None:
    case.check(rule_id)
