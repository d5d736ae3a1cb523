"""Released images with signatures and attestations attached as the OCI source reads them, signed with keys the
tests mint (cryptography) and keyless by a local Sigstore instance, for the release rules' live cases."""

from __future__ import annotations

import atexit
import base64
import dataclasses
import datetime
import json
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from registry_guard.catalogue.model import ArtifactLayer, Image, SupplyChainArtifact

from localdev.cosign import (
    BUNDLE_ANNOTATION,
    DSSE_ENVELOPE,
    SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING,
    PrivateKey,
    dsse_envelope,
    keyless_signature_layer,
    new_key,
    public_pem,
    sign,
    signature_bundle,
    simple_signing_payload,
    slsa_statement,
)
from localdev.sigstore_local import BUNDLE_V03, LocalSigstore, Signer, hashedrekord

from .live_state import digest, image

KEYS: dict[str, PrivateKey] = {kind: new_key(kind) for kind in ("ecdsa", "ed25519", "rsa")}
STRANGER = new_key("ecdsa")
BUILDER = "https://github.com/acme/models/.github/workflows/build.yml@refs/heads/main"


def trusted(*kinds: str) -> list[dict[str, str]]:
    return [{"name": kind, "publicKey": public_pem(KEYS[kind])} for kind in kinds]


def released(tags: tuple[str, ...] = ("v1.0.0",), seed: str = "release") -> Image:
    return image(tags, image_digest=digest(seed))


def signature(key: PrivateKey, signs: str, *, payload: bytes | None = None,
              tamper: bool = False, logged: bool = False) -> SupplyChainArtifact:
    """A key-signed legacy signature; `logged`: with the local log's promise, as cosign adds by default."""
    body = payload if payload is not None else simple_signing_payload("registry.example/llm", signs)
    sig = sign(key, body)
    annotations = {SIGNATURE_ANNOTATION: base64.b64encode(sig).decode()}
    if logged:
        annotations[BUNDLE_ANNOTATION] = SIGSTORE.log(hashedrekord(sig, public_pem(key), body)).cosign_bundle()
    if tamper:
        body = body.replace(b"container image", b"container imagE")
    layer = ArtifactLayer(SIMPLE_SIGNING, digest(body.decode()), annotations, body)
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


# -- keyless: a local Sigstore instance and its trusted root -----------------------------------------------------

SIGSTORE = LocalSigstore()
ISSUER = "https://token.actions.githubusercontent.com"
WORKFLOW = "https://github.com/acme/models/.github/workflows/build.yml@refs/heads/main"
CI = SIGSTORE.issue(WORKFLOW, ISSUER)


def _write_root(root: Mapping[str, Any]) -> str:
    handle, path = tempfile.mkstemp(suffix="-trusted_root.json")
    with os.fdopen(handle, "w") as out:
        json.dump(root, out)
    atexit.register(os.unlink, path)
    return path


TRUSTED_ROOT = _write_root(SIGSTORE.trusted_root())
ROOT_WITHOUT_CA = _write_root(SIGSTORE.trusted_root(with_ca=False))


def keyless(workflow: str = WORKFLOW) -> list[dict[str, str]]:
    """trustedIdentities: the CI workflow `workflow` (a pattern) from GitHub's issuer."""
    return [{"issuer": ISSUER, "subjectPattern": workflow}]


def legacy_keyless(signs: str, *, signer: Signer = CI, payload: bytes | None = None, logged: bool = True,
                   tamper: str | None = None) -> SupplyChainArtifact:
    """A keyless legacy signature (`sha256-<hex>.sig`), as cosign writes it, with annotation `tamper` replaced
    by one of another signature (`promise`: the log's promise, `certificate`: the signing certificate)."""
    layer = keyless_signature_layer(SIGSTORE, signer, "registry.example/llm", signs, payload=payload, logged=logged)
    annotations = dict(layer.annotations)
    if tamper is not None:
        other = keyless_signature_layer(SIGSTORE, SIGSTORE.issue(WORKFLOW, ISSUER), "registry.example/llm", signs)
        key = {"promise": "dev.sigstore.cosign/bundle", "certificate": "dev.sigstore.cosign/certificate"}[tamper]
        annotations[key] = other.annotations[key]
    stored = ArtifactLayer(SIMPLE_SIGNING, digest(layer.data.decode()), annotations, layer.data)
    return SupplyChainArtifact("signature", "cosign-tag", digest=digest("keyless" + signs), tag="sha256-x.sig",
                               layers=(stored,), read=True)


def bundle_signature(bundle: Mapping[str, Any]) -> SupplyChainArtifact:
    """A Sigstore bundle stored as an OCI 1.1 referrer (cosign --new-bundle-format)."""
    content = json.dumps(bundle).encode()
    layer = ArtifactLayer(BUNDLE_V03, digest(content.decode()), {}, content)
    return SupplyChainArtifact("signature", "referrer", digest=digest("bundle" + content.decode()),
                               artifact_type=BUNDLE_V03, layers=(layer,), read=True)


def keyless_bundle(signs: str, *, signer: Signer = CI) -> SupplyChainArtifact:
    return bundle_signature(signature_bundle("registry.example/llm", signs, sigstore=SIGSTORE, signer=signer))


def key_bundle(key: PrivateKey, signs: str, *, logged: bool = True, tamper_proof: bool = False) -> SupplyChainArtifact:
    """A Sigstore bundle signed with `key` (ECDSA) with its log entry and inclusion proof (`logged`); with
    `tamper_proof`, the proof's root hash is another tree's."""
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    bundle = signature_bundle("registry.example/llm", signs, sigstore=SIGSTORE, key=key, logged=logged)
    if tamper_proof:
        proof = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
        proof["rootHash"] = base64.b64encode(bytes(32)).decode()
    return bundle_signature(bundle)


def expired_signer() -> Signer:
    """A certificate that had expired an hour before the log saw the signature."""
    return SIGSTORE.issue(WORKFLOW, ISSUER, at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2),
                          minutes=10)
