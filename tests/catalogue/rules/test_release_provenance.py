"""release-provenance: live cases, with SLSA provenance attested by keys the tests mint."""

from __future__ import annotations

from typing import Any

from registry_guard.catalogue.model import RegistryState, SupplyChainArtifact
from registry_guard.catalogue.rule import Inputs
from registry_guard.catalogue.settings import Settings

from audit.offline_check.analyzer import PolicyPackClient
from localdev.cosign import slsa_statement

from .cases import PASSES, CannotJudge, Case, Finds, Live
from .signed_releases import BUILDER, KEYS, STRANGER, attestation, provenance, released, trusted, with_attached

IMAGE = released()
OTHER = released(seed="another release")


def live(name: str, *artifacts: SupplyChainArtifact, expect: Any, **settings: Any) -> Live:
    config: dict[str, Any] = {"provenanceReleases": ["*"], "trustedKeys": trusted("ecdsa"),
                              "allowedBuilders": [BUILDER], **settings}
    state = RegistryState(images=(with_attached(IMAGE, *artifacts),))
    return Live(name, Inputs(state, Settings.from_mapping(config)), expect)


CASES: list[Case] = [
    live("provenance from an allowed builder", provenance(KEYS["ecdsa"], IMAGE), expect=PASSES),
    live("no attestation", expect=Finds("no provenance attestation")),
    live("builder not allowed", provenance(KEYS["ecdsa"], IMAGE, "https://evil.example/builder"),
         expect=Finds("provenance from a builder not allowed: https://evil.example/builder")),
    live("provenance of another digest", provenance(KEYS["ecdsa"], OTHER),
         expect=Finds("signature over another digest")),
    live("attested by an unknown key", provenance(STRANGER, IMAGE), expect=Finds("unknown key")),
    live("an attestation that is not SLSA provenance",
         attestation(KEYS["ecdsa"], {**slsa_statement("llm", IMAGE.digest or "", BUILDER),
                                     "predicateType": "https://spdx.dev/Document"}),
         expect=Finds("no SLSA provenance among them")),
    live("attestation not read", SupplyChainArtifact("attestation", "cosign-tag", tag="sha256-x.att"),
         expect=CannotJudge("its attestations were not read")),
    live("not required by default", expect=PASSES, provenanceReleases=[]),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
