"""release-signed: live cases, with signatures made by keys the tests mint (each key kind cosign uses)."""

from __future__ import annotations

from typing import Any

from registry_guard.catalogue.model import RegistryState, SupplyChainArtifact
from registry_guard.catalogue.rule import Inputs
from registry_guard.catalogue.settings import Settings

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, CannotJudge, Case, Finds, Live
from .signed_releases import KEYS, STRANGER, released, signature, trusted, with_attached

IMAGE = released()
OTHER = released(seed="another release")


def live(name: str, *artifacts: SupplyChainArtifact, expect: Any, unread: frozenset[str] = frozenset(),
         **settings: Any) -> Live:
    config: dict[str, Any] = {"signedReleases": ["*"], "trustedKeys": trusted("ecdsa", "ed25519", "rsa"), **settings}
    state = RegistryState(images=(with_attached(IMAGE, *artifacts),))
    return Live(name, Inputs(state, Settings.from_mapping(config), unread=unread), expect)


CASES: list[Case] = [
    live("ECDSA P-256 key signature", signature(KEYS["ecdsa"], IMAGE.digest or ""), expect=PASSES),
    live("Ed25519 key signature", signature(KEYS["ed25519"], IMAGE.digest or ""), expect=PASSES),
    live("RSA key signature", signature(KEYS["rsa"], IMAGE.digest or ""), expect=PASSES),
    live("no signature", expect=Finds("no signature (neither cosign's tag nor a referrer)")),
    live("signature over another digest", signature(KEYS["ecdsa"], OTHER.digest or ""),
         expect=Finds("signature over another digest")),
    live("unknown key", signature(STRANGER, IMAGE.digest or ""), expect=Finds("unknown key")),
    live("tampered payload", signature(KEYS["ecdsa"], IMAGE.digest or "", tamper=True), expect=Finds("unknown key")),
    live("one valid signature among bad ones is enough",
         signature(STRANGER, IMAGE.digest or ""), signature(KEYS["rsa"], IMAGE.digest or ""), expect=PASSES),
    live("key not trusted by these settings", signature(KEYS["ed25519"], IMAGE.digest or ""),
         expect=Finds("unknown key"), trustedKeys=trusted("ecdsa")),
    live("signature not read", SupplyChainArtifact("signature", "cosign-tag", tag="sha256-x.sig"),
         expect=CannotJudge("its signatures were not read")),
    live("repository not read completely", expect=CannotJudge("not read completely"),
         unread=frozenset({IMAGE.repository.name})),
    live("not required: signedReleases does not select it", expect=PASSES, signedReleases=["*/vision:*"]),
    live("not required by default", expect=PASSES, signedReleases=[]),
    Live("an image without a version tag is not a release",
         Inputs(RegistryState(images=(released(("latest",)),)),
                Settings.from_mapping({"signedReleases": ["*"]})), PASSES),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
