"""Released images with signatures and attestations attached as the OCI source reads them, signed with keys the
tests mint (cryptography), for the release rules' live cases."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping
from typing import Any

from registry_guard.catalogue.model import ArtifactLayer, Image, SupplyChainArtifact

from localdev.cosign import (
    DSSE_ENVELOPE,
    SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING,
    PrivateKey,
    dsse_envelope,
    new_key,
    public_pem,
    sign,
    simple_signing_payload,
    slsa_statement,
)

from .live_state import digest, image

KEYS: dict[str, PrivateKey] = {kind: new_key(kind) for kind in ("ecdsa", "ed25519", "rsa")}
STRANGER = new_key("ecdsa")
BUILDER = "https://github.com/acme/models/.github/workflows/build.yml@refs/heads/main"


def trusted(*kinds: str) -> list[dict[str, str]]:
    return [{"name": kind, "publicKey": public_pem(KEYS[kind])} for kind in kinds]


def released(tags: tuple[str, ...] = ("v1.0.0",), seed: str = "release") -> Image:
    return image(tags, image_digest=digest(seed))


def signature(key: PrivateKey, signs: str, *, payload: bytes | None = None,
              tamper: bool = False) -> SupplyChainArtifact:
    body = payload if payload is not None else simple_signing_payload("registry.example/llm", signs)
    sig = sign(key, body)
    if tamper:
        body = body.replace(b"container image", b"container imagE")
    layer = ArtifactLayer(SIMPLE_SIGNING, digest(body.decode()), {SIGNATURE_ANNOTATION: base64.b64encode(sig).decode()},
                          body)
    return SupplyChainArtifact("signature", "cosign-tag", digest=digest("sig" + signs), tag="sha256-x.sig",
                               layers=(layer,), read=True)


def attestation(key: PrivateKey, statement: Mapping[str, Any]) -> SupplyChainArtifact:
    envelope = dsse_envelope(statement, key)
    layer = ArtifactLayer(DSSE_ENVELOPE, digest(envelope.decode()), {SIGNATURE_ANNOTATION: ""}, envelope)
    return SupplyChainArtifact("attestation", "cosign-tag", digest=digest("att"), tag="sha256-x.att",
                               layers=(layer,), read=True)


def provenance(key: PrivateKey, about: Image, builder: str = BUILDER) -> SupplyChainArtifact:
    return attestation(key, slsa_statement(about.package, about.digest or "", builder))


def with_attached(base: Image, *artifacts: SupplyChainArtifact) -> Image:
    return dataclasses.replace(base, attached=artifacts)
