"""release-signed: live cases, with signatures made by keys the tests mint (each key kind cosign uses)."""

from __future__ import annotations

import dataclasses
from typing import Any

from registry_guard.catalogue.model import RegistryState, ResourceRef, SupplyChainArtifact
from registry_guard.catalogue.rule import Inputs
from registry_guard.catalogue.settings import Settings

from audit.offline_check.analyzer import PolicyPackClient
from audit.sources.artifact_registry import NOT_SERVED

from .cases import PASSES, CannotJudge, Case, Finds, Live
from .signed_releases import (
    KEYS,
    ROOT_WITHOUT_CA,
    STRANGER,
    TRUSTED_ROOT,
    expired_signer,
    key_bundle,
    keyless,
    keyless_bundle,
    legacy_keyless,
    released,
    signature,
    trusted,
    with_attached,
)

IMAGE = released()
OTHER = released(seed="another release")
# The same release as the Artifact Registry API lists it (its signature listed, not served) and as the
# registry's Docker endpoint serves it (l-docker.pkg.dev/p/r/llm).
AR_LISTED = SupplyChainArtifact("signature", "cosign-tag", tag="sha256-x.sig", problem=NOT_SERVED)
DOCKER_TWIN = dataclasses.replace(IMAGE, repository=ResourceRef("repository", "l-docker.pkg.dev"), package="p/r/llm")


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
    # Keyless (a local Sigstore instance): legacy signatures (certificate and the log's promise in annotations)
    # and Sigstore bundles stored as referrers; bundles signed with a key, with their log entry.
    live("keyless legacy signature from the CI workflow", legacy_keyless(IMAGE.digest or ""), expect=PASSES,
         trustedIdentities=keyless(), sigstoreTrustedRoot=TRUSTED_ROOT),
    live("keyless legacy signature, identity matched by pattern", legacy_keyless(IMAGE.digest or ""),
         expect=PASSES, trustedIdentities=keyless(r"https://github\.com/acme/models/.*"),
         sigstoreTrustedRoot=TRUSTED_ROOT),
    live("keyless legacy signature from another workflow", legacy_keyless(IMAGE.digest or ""),
         expect=Finds("identity not allowed"), trustedIdentities=keyless(r"https://github\.com/acme/other/.*"),
         sigstoreTrustedRoot=TRUSTED_ROOT),
    live("keyless legacy signature over another digest", legacy_keyless(OTHER.digest or ""),
         expect=Finds("signature over another digest"), trustedIdentities=keyless(),
         sigstoreTrustedRoot=TRUSTED_ROOT),
    live("keyless legacy signature, certificate expired when logged",
         legacy_keyless(IMAGE.digest or "", signer=expired_signer()),
         expect=Finds("certificate outside its validity"), trustedIdentities=keyless(),
         sigstoreTrustedRoot=TRUSTED_ROOT),
    live("keyless legacy signature without the log's promise", legacy_keyless(IMAGE.digest or "", logged=False),
         expect=Finds("when it was signed cannot be established"), trustedIdentities=keyless(),
         sigstoreTrustedRoot=TRUSTED_ROOT),
    live("keyless legacy signature with another signature's promise",
         legacy_keyless(IMAGE.digest or "", tamper="promise"),
         expect=Finds("its transparency-log entry records another signature"), trustedIdentities=keyless(),
         sigstoreTrustedRoot=TRUSTED_ROOT),
    live("keyless legacy signature with another certificate", legacy_keyless(IMAGE.digest or "", tamper="certificate"),
         expect=Finds("the signature does not verify with its certificate's key"), trustedIdentities=keyless(),
         sigstoreTrustedRoot=TRUSTED_ROOT),
    live("keyless legacy signature, CA not in the trusted root", legacy_keyless(IMAGE.digest or ""),
         expect=Finds("does not chain to the trusted root"), trustedIdentities=keyless(),
         sigstoreTrustedRoot=ROOT_WITHOUT_CA),
    live("keyless legacy signature and no trusted identity", legacy_keyless(IMAGE.digest or ""),
         expect=Finds("identity not allowed"), sigstoreTrustedRoot=TRUSTED_ROOT),
    live("keyless bundle as a referrer", keyless_bundle(IMAGE.digest or ""), expect=PASSES,
         trustedIdentities=keyless(), sigstoreTrustedRoot=TRUSTED_ROOT),
    live("keyless bundle over another digest", keyless_bundle(OTHER.digest or ""),
         expect=Finds("signature over another digest"), trustedIdentities=keyless(), sigstoreTrustedRoot=TRUSTED_ROOT),
    live("keyless bundle from another workflow", keyless_bundle(IMAGE.digest or ""),
         expect=Finds("identity not allowed"), trustedIdentities=keyless("nobody"), sigstoreTrustedRoot=TRUSTED_ROOT),
    live("key-signed legacy signature with the log's promise", signature(KEYS["ecdsa"], IMAGE.digest or "",
                                                                           logged=True),
         expect=PASSES, sigstoreTrustedRoot=TRUSTED_ROOT),
    live("key-signed legacy signature with the log's promise and no trusted root",
         signature(KEYS["ecdsa"], IMAGE.digest or "", logged=True), expect=Finds("none is configured")),
    live("key-signed bundle with its log entry", key_bundle(KEYS["ecdsa"], IMAGE.digest or ""), expect=PASSES,
         sigstoreTrustedRoot=TRUSTED_ROOT),
    live("key-signed bundle whose inclusion proof is another tree's",
         key_bundle(KEYS["ecdsa"], IMAGE.digest or "", tamper_proof=True),
         expect=Finds("its transparency-log entry does not verify"), sigstoreTrustedRoot=TRUSTED_ROOT),
    live("key-signed bundle with a log entry and no trusted root", key_bundle(KEYS["ecdsa"], IMAGE.digest or ""),
         expect=Finds("none is configured")),
    live("key-signed bundle without a log entry", key_bundle(KEYS["ecdsa"], IMAGE.digest or "", logged=False),
         expect=PASSES),
    Live("read through the Artifact Registry API and the Docker endpoint: judged where its signature was read",
         Inputs(RegistryState(images=(with_attached(IMAGE, AR_LISTED),
                                      with_attached(DOCKER_TWIN, signature(KEYS["ecdsa"], IMAGE.digest or "")))),
                Settings.from_mapping({"signedReleases": ["*"], "trustedKeys": trusted("ecdsa")})), PASSES),
    Live("read through the Artifact Registry API alone",
         Inputs(RegistryState(images=(with_attached(IMAGE, AR_LISTED),)),
                Settings.from_mapping({"signedReleases": ["*"], "trustedKeys": trusted("ecdsa")})),
         CannotJudge("only the Artifact Registry API was scanned")),
    Live("an image without a version tag is not a release",
         Inputs(RegistryState(images=(released(("latest",)),)),
                Settings.from_mapping({"signedReleases": ["*"]})), PASSES),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
