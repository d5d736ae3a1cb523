"""Sign, attest and attach SBOMs to images in a local registry as `cosign` stores them, with keys the caller
mints (cryptography): for tests, the demo and benchmarks, which need signed releases without the cosign
binary or a Sigstore instance.

What is written is cosign's own format: the legacy tag scheme (`sha256-<hex>.sig` holding simple-signing
payloads with the signature in the layer's `dev.cosignproject.cosign/signature` annotation; `.att` holding
DSSE envelopes of in-toto statements; `.sbom`), and OCI 1.1 referrers (a manifest whose `subject` is the
image, added to the referrers tag fallback `sha256-<hex>` as clients do on a registry without the referrers
API), Sigstore bundles among them. Keyless signatures come from a local Sigstore instance
(`localdev/sigstore_local.py`). Signatures follow cosign's verifiers: ECDSA over SHA-256 (DER), Ed25519 over
the message, RSA PKCS#1 v1.5 over SHA-256.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Final

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from localdev.oci_push import OCI_MANIFEST, ArtifactLayer, add_to_referrers_tag, manifest_size, push_artifact
from localdev.sigstore_local import BUNDLE_V03, LocalSigstore, Signer, dsse_entry, hashedrekord

SIMPLE_SIGNING: Final = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE: Final = "application/vnd.dsse.envelope.v1+json"
IN_TOTO: Final = "application/vnd.in-toto+json"
SIGNATURE_ANNOTATION: Final = "dev.cosignproject.cosign/signature"
CERTIFICATE_ANNOTATION: Final = "dev.sigstore.cosign/certificate"
CHAIN_ANNOTATION: Final = "dev.sigstore.cosign/chain"
BUNDLE_ANNOTATION: Final = "dev.sigstore.cosign/bundle"
COSIGN_SIGN_PREDICATE: Final = "https://sigstore.dev/cosign/sign/v1"
BUNDLE_PREDICATE_ANNOTATION: Final = "dev.sigstore.bundle.predicateType"
SIGSTORE_BUNDLE: Final = "application/vnd.dev.sigstore.bundle.v0.3+json"
SLSA_PROVENANCE_V1: Final = "https://slsa.dev/provenance/v1"

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


def new_key(kind: str = "ecdsa") -> PrivateKey:
    """A fresh key pair of a kind cosign uses: `ecdsa` (P-256, cosign's default), `ed25519` or `rsa`."""
    if kind == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unknown key kind {kind!r}")


def public_pem(key: PrivateKey) -> str:
    """The public key as `cosign.pub` holds it (PEM, SubjectPublicKeyInfo)."""
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign(key: PrivateKey, message: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(message, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def simple_signing_payload(docker_reference: str, digest: str) -> bytes:
    """cosign's signed payload for an image: the digest it vouches for, and the repository."""
    return json.dumps({
        "critical": {"identity": {"docker-reference": docker_reference},
                     "image": {"docker-manifest-digest": digest}, "type": "cosign container image signature"},
        "optional": None,
    }, separators=(",", ":")).encode()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what a DSSE signature signs."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def dsse_envelope(statement: Mapping[str, Any], key: PrivateKey) -> bytes:
    payload = json.dumps(statement, separators=(",", ":")).encode()
    return json.dumps({
        "payloadType": IN_TOTO, "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(sign(key, pae(IN_TOTO, payload))).decode()}],
    }, separators=(",", ":")).encode()


def slsa_statement(name: str, digest: str, builder_id: str) -> dict[str, Any]:
    """An in-toto statement with a SLSA v1 provenance predicate for `digest`, built by `builder_id`."""
    algorithm, _, value = digest.partition(":")
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {algorithm: value}}],
        "predicateType": SLSA_PROVENANCE_V1,
        "predicate": {"buildDefinition": {"buildType": "https://example.com/model-build/v1",
                                          "externalParameters": {}},
                      "runDetails": {"builder": {"id": builder_id}}},
    }


def _tag(digest: str, suffix: str) -> str:
    return digest.replace(":", "-", 1) + suffix


def sign_image(base_url: str, repo: str, digest: str, key: PrivateKey, *, payload: bytes | None = None,
               docker_reference: str | None = None, client: httpx.Client | None = None) -> str:
    """Push a cosign signature of `digest` under `sha256-<hex>.sig` (`payload` replaces the simple-signing
    payload, e.g. to sign another digest). Returns the signature manifest's digest."""
    reference = docker_reference or f"{base_url.split('://', 1)[-1].rstrip('/')}/{repo}"
    body = payload if payload is not None else simple_signing_payload(reference, digest)
    layer = ArtifactLayer(SIMPLE_SIGNING, body, {SIGNATURE_ANNOTATION: base64.b64encode(sign(key, body)).decode()})
    return push_artifact(base_url, repo, _tag(digest, ".sig"), [layer], client=client)[0]


def keyless_signature_layer(sigstore: LocalSigstore, signer: Signer, reference: str, digest: str, *,
                            payload: bytes | None = None, logged: bool = True) -> ArtifactLayer:
    """A keyless legacy signature layer as `cosign sign` (without --new-bundle-format) writes one: the
    simple-signing payload, the signature, the signing certificate and its chain in annotations, and the
    transparency log's promise for the entry it made (`logged=False` leaves the promise out)."""
    from cryptography.hazmat.primitives import serialization

    body = payload if payload is not None else simple_signing_payload(reference, digest)
    signature = signer.sign(body)
    annotations = {SIGNATURE_ANNOTATION: base64.b64encode(signature).decode(), CERTIFICATE_ANNOTATION: signer.pem,
                   CHAIN_ANNOTATION: sigstore.ca_certificate.public_bytes(serialization.Encoding.PEM).decode()}
    if logged:
        annotations[BUNDLE_ANNOTATION] = sigstore.log(hashedrekord(signature, signer.pem, body)).cosign_bundle()
    return ArtifactLayer(SIMPLE_SIGNING, body, annotations)


def sign_image_keyless(base_url: str, repo: str, digest: str, sigstore: LocalSigstore, signer: Signer, *,
                       client: httpx.Client | None = None) -> str:
    """Push a keyless legacy signature of `digest` under `sha256-<hex>.sig`. Returns its manifest's digest."""
    reference = f"{base_url.split('://', 1)[-1].rstrip('/')}/{repo}"
    layer = keyless_signature_layer(sigstore, signer, reference, digest)
    return push_artifact(base_url, repo, _tag(digest, ".sig"), [layer], client=client)[0]


def _statement(name: str, digest: str, predicate_type: str, predicate: Mapping[str, Any]) -> bytes:
    algorithm, _, value = digest.partition(":")
    return json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": name,
                       "digest": {algorithm: value}}], "predicateType": predicate_type,
                       "predicate": dict(predicate)}, separators=(",", ":")).encode()


def signature_bundle(name: str, digest: str, *, sigstore: LocalSigstore, signer: Signer | None = None,
                     key: ec.EllipticCurvePrivateKey | None = None, logged: bool = True,
                     statement: bytes | None = None) -> dict[str, Any]:
    """A Sigstore bundle (v0.3) as `cosign sign --new-bundle-format` makes one: a DSSE envelope of an in-toto
    statement (predicate cosign/sign/v1) about `digest`, signed keyless by `signer` (its certificate in the
    bundle) or with `key` (a public-key hint), and the log entry with its inclusion proof (`logged`)."""
    payload = statement if statement is not None else _statement(name, digest, COSIGN_SIGN_PREDICATE, {})
    if signer is not None:
        signature, verifier_pem = signer.sign(pae(IN_TOTO, payload)), signer.pem
        material: dict[str, Any] = {"certificate": {"rawBytes": base64.b64encode(signer.der).decode()}}
    elif key is not None:
        signature, verifier_pem = sign(key, pae(IN_TOTO, payload)), public_pem(key)
        material = {"publicKey": {"hint": ""}}
    else:
        raise ValueError("a signature bundle needs a signer or a key")
    envelope = {"payload": base64.b64encode(payload).decode(), "payloadType": IN_TOTO,
                "signatures": [{"sig": base64.b64encode(signature).decode()}]}
    material["tlogEntries"] = [sigstore.log(dsse_entry(envelope, verifier_pem)).bundle_entry()] if logged else []
    return {"mediaType": BUNDLE_V03, "verificationMaterial": material, "dsseEnvelope": envelope}


def push_bundle(base_url: str, repo: str, digest: str, bundle: bytes, *, predicate_type: str = COSIGN_SIGN_PREDICATE,
                subject_media_type: str = OCI_MANIFEST, created: str = "2026-01-01T00:00:00Z",
                client: httpx.Client | None = None) -> str:
    """Push a Sigstore bundle as cosign's `--new-bundle-format` stores it: an OCI 1.1 referrer of `digest`
    (artifactType and layer the bundle's media type, an empty config, the predicate type annotated), listed in
    the referrers tag fallback on a registry without the referrers API. Returns the referrer's digest."""
    return push_referrer(base_url, repo, digest, BUNDLE_V03, bundle, annotations={
        "org.opencontainers.image.created": created, "dev.sigstore.bundle.content": "dsse-envelope",
        BUNDLE_PREDICATE_ANNOTATION: predicate_type}, subject_media_type=subject_media_type, client=client)


def attest_image(base_url: str, repo: str, digest: str, key: PrivateKey, statement: Mapping[str, Any], *,
                 client: httpx.Client | None = None) -> str:
    """Push a cosign attestation (a DSSE envelope of `statement`) under `sha256-<hex>.att`."""
    layer = ArtifactLayer(DSSE_ENVELOPE, dsse_envelope(statement, key),
                          {SIGNATURE_ANNOTATION: "", "predicateType": str(statement.get("predicateType", ""))})
    return push_artifact(base_url, repo, _tag(digest, ".att"), [layer], client=client)[0]


def attach_sbom(base_url: str, repo: str, digest: str, sbom: bytes, media_type: str = "text/spdx+json", *,
                client: httpx.Client | None = None) -> str:
    """Push an SBOM under `sha256-<hex>.sbom`, as `cosign attach sbom` does."""
    return push_artifact(base_url, repo, _tag(digest, ".sbom"), [ArtifactLayer(media_type, sbom, {})],
                         client=client)[0]


def push_referrer(base_url: str, repo: str, digest: str, artifact_type: str, content: bytes, *,
                  annotations: Mapping[str, str] | None = None, subject_media_type: str = OCI_MANIFEST,
                  client: httpx.Client | None = None) -> str:
    """Push an OCI 1.1 referrer of `digest` (one layer of `content`, media type `artifact_type`, an empty
    config) and add it to the referrers tag fallback, as cosign (`--new-bundle-format`) and oras do on a
    registry without the referrers API. Returns the referrer's digest."""
    empty = b"{}"
    size = manifest_size(base_url, repo, digest, client=client)
    own = dict(annotations or {})
    referrer, referrer_size = push_artifact(
        base_url, repo, None, [ArtifactLayer(artifact_type, content, {})], config=empty,
        config_media_type="application/vnd.oci.empty.v1+json", artifact_type=artifact_type, subject=(digest, size),
        annotations=own or None, subject_media_type=subject_media_type, client=client)
    descriptor: dict[str, object] = {"mediaType": OCI_MANIFEST, "digest": referrer, "size": referrer_size,
                                     "artifactType": artifact_type}
    if own:
        descriptor["annotations"] = own
    add_to_referrers_tag(base_url, repo, digest, descriptor, client=client)
    return referrer
