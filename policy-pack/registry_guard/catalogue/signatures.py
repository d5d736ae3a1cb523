"""Verifying the signatures and attestations a source attached to an image, offline, with maintained libraries:
`cryptography` for cosign key pairs (ECDSA P-256 over SHA-256, Ed25519, RSA PKCS#1 v1.5 over SHA-256, as
cosign's verifiers do) and `sigstore` for Sigstore bundles with a certificate (the chain to the configured
trusted root at the time the transparency log or a timestamp authority vouches for, the SCT, the log
entry's inclusion proof and promise, and the OIDC identity).

Nothing here reaches the network: the trusted root is a file the settings name (a Sigstore
`trusted_root.json`), and every input was read by a source into the model. The libraries are imported when
a release rule first verifies, so the deploy-time pack, which never runs these rules, does not need them.

Every result names why a signature does not count (`Reason`): no signature, signature over another digest,
unknown key, identity not allowed, certificate outside its validity, bad bundle, or not read.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from .model import ArtifactLayer, Image, SupplyChainArtifact

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
    from sigstore.verify.policy import VerificationPolicy

Reason = Literal[
    "no signature", "signature over another digest", "unknown key", "identity not allowed",
    "certificate outside its validity", "bad bundle", "not read",
]

SIMPLE_SIGNING: Final = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE: Final = "application/vnd.dsse.envelope.v1+json"
IN_TOTO_PAYLOAD: Final = "application/vnd.in-toto+json"
BUNDLE_TYPES: Final = frozenset({
    "application/vnd.dev.sigstore.bundle.v0.3+json", "application/vnd.dev.sigstore.bundle+json",
})
SIGNATURE_ANNOTATION: Final = "dev.cosignproject.cosign/signature"
CERTIFICATE_ANNOTATION: Final = "dev.sigstore.cosign/certificate"
COSIGN_SIGN_PREDICATE: Final = "https://sigstore.dev/cosign/sign/v1"


@dataclass(frozen=True)
class TrustedKey:
    name: str
    public_key_pem: str


@dataclass(frozen=True)
class KeylessIdentity:
    """A Sigstore (Fulcio) identity: the OIDC issuer exactly, the certificate's subject (SAN) by pattern."""

    issuer: str
    subject_pattern: str


@dataclass(frozen=True)
class Trust:
    keys: tuple[TrustedKey, ...] = ()
    identities: tuple[KeylessIdentity, ...] = ()
    trusted_root: str | None = None  # path of a Sigstore trusted_root.json (needed for keyless identities)


@dataclass(frozen=True)
class Verdict:
    """One signature or attestation, judged: `signer` when it counts, else `reason` (and `detail`)."""

    ok: bool
    what: str  # e.g. "cosign signature (sha256-….sig)"
    signer: str = ""
    reason: Reason | None = None
    detail: str = ""
    statement: Mapping[str, Any] | None = None  # an attestation's verified in-toto statement

    def describe(self) -> str:
        if self.ok:
            return f"{self.what}: signed by {self.signer}"
        return f"{self.what}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


class _Failed(Exception):
    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(reason)
        self.reason: Reason = reason
        self.detail = detail[:300]


def _where(artifact: SupplyChainArtifact) -> str:
    name = artifact.tag or (artifact.digest[:19] + "…" if artifact.digest else "")
    return f"{artifact.kind} {artifact.stored_as}" + (f" {name}" if name else "")


def verify_image(image: Image, trust: Trust, kind: Literal["signature", "attestation"]) -> list[Verdict]:
    """Each signature (or attestation) attached to `image`, verified against `trust`."""
    verdicts: list[Verdict] = []
    for artifact in image.attached:
        if artifact.kind != kind:
            continue
        what = _where(artifact)
        if not artifact.read:
            detail = artifact.problem or "its content was not read by this source"
            verdicts.append(Verdict(False, what, reason="not read", detail=detail))
            continue
        if not artifact.layers:
            verdicts.append(Verdict(False, what, reason="bad bundle", detail="no layers"))
            continue
        for layer in artifact.layers:
            try:
                signer, statement = _verify_layer(layer, image.digest or "", trust, kind)
            except _Failed as failed:
                verdicts.append(Verdict(False, what, reason=failed.reason, detail=failed.detail))
            else:
                verdicts.append(Verdict(True, what, signer=signer, statement=statement))
    return verdicts


def _verify_layer(layer: ArtifactLayer, digest: str, trust: Trust,
                  kind: Literal["signature", "attestation"]) -> tuple[str, Mapping[str, Any] | None]:
    media_type = layer.media_type.split(";")[0].strip().lower()
    content = layer.content or b""
    if media_type == SIMPLE_SIGNING:
        return _verify_simple_signing(layer, content, digest, trust), None
    if media_type == DSSE_ENVELOPE:
        return _verify_envelope(content, digest, trust, kind)
    if media_type in BUNDLE_TYPES:
        return _verify_bundle(content, digest, trust, kind)
    raise _Failed("bad bundle", f"a layer of type {media_type[:80]!r} is not a signature this check reads")


# -- cosign key pairs ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _public_key(pem: str) -> PublicKeyTypes:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem.encode())


def _key_verifies(key: PublicKeyTypes, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _signed_by_key(trust: Trust, signature: bytes, message: bytes) -> str | None:
    """The name of the trusted key that made `signature` over `message`, or None."""
    for trusted in trust.keys:
        if _key_verifies(_public_key(trusted.public_key_pem), signature, message):
            return f"key {trusted.name}"
    return None


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _Failed("bad bundle", f"{what} is not base64") from None


def _verify_simple_signing(layer: ArtifactLayer, payload: bytes, digest: str, trust: Trust) -> str:
    """cosign's legacy signature: the layer is the payload, the annotation the signature over it."""
    encoded = layer.annotations.get(SIGNATURE_ANNOTATION)
    if not encoded:
        raise _Failed("no signature", "the layer carries no signature annotation")
    signature = _b64(encoded, "the signature annotation")
    if CERTIFICATE_ANNOTATION in layer.annotations and not trust.keys:
        raise _Failed("unknown key", "a keyless legacy signature (certificate in an annotation) without a "
                      "Sigstore bundle: verify keyless releases from their bundle (cosign --new-bundle-format)")
    signer = _signed_by_key(trust, signature, payload)
    if signer is None:
        raise _Failed("unknown key", "no trusted key verifies it")
    try:
        signed = json.loads(payload)["critical"]["image"]["docker-manifest-digest"]
    except (ValueError, KeyError, TypeError):
        raise _Failed("bad bundle", "the signed payload is not a cosign simple-signing document") from None
    if signed != digest:
        raise _Failed("signature over another digest", f"it signs {str(signed)[:80]}")
    return signer


# -- DSSE envelopes (cosign attestations made with a key) -----------------------------------------------------


def _pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _verify_envelope(content: bytes, digest: str, trust: Trust,
                     kind: Literal["signature", "attestation"]) -> tuple[str, Mapping[str, Any]]:
    try:
        envelope = json.loads(content)
        payload_type = str(envelope["payloadType"])
        payload = _b64(str(envelope["payload"]), "the DSSE payload")
        signatures = [_b64(str(s["sig"]), "a DSSE signature") for s in envelope["signatures"]]
    except (ValueError, KeyError, TypeError):
        raise _Failed("bad bundle", "not a DSSE envelope") from None
    if not signatures:
        raise _Failed("no signature", "the DSSE envelope carries no signature")
    message = _pae(payload_type, payload)
    signer = next((s for s in (_signed_by_key(trust, sig, message) for sig in signatures) if s), None)
    if signer is None:
        raise _Failed("unknown key", "no trusted key verifies the envelope")
    return signer, _statement_about(payload_type, payload, digest, kind)


def _statement_about(payload_type: str, payload: bytes, digest: str,
                     kind: Literal["signature", "attestation"]) -> Mapping[str, Any]:
    """The in-toto statement, once it is known to name `digest` among its subjects."""
    if payload_type != IN_TOTO_PAYLOAD:
        raise _Failed("bad bundle", f"payload type {payload_type[:80]!r} is not an in-toto statement")
    try:
        statement = json.loads(payload)
        subjects = statement["subject"]
        algorithm, _, value = digest.partition(":")
        named = {f"{a}:{v}" for s in subjects for a, v in s.get("digest", {}).items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _Failed("bad bundle", "the in-toto statement is malformed") from None
    if f"{algorithm}:{value}" not in named:
        raise _Failed("signature over another digest", "its statement's subjects do not include this digest")
    if kind == "signature" and statement.get("predicateType") != COSIGN_SIGN_PREDICATE:
        raise _Failed("bad bundle", "a DSSE statement that is not a cosign image signature")
    return dict(statement)


# -- Sigstore bundles -----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _verifier(path: str) -> Any:
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier

    return Verifier(trusted_root=TrustedRoot.from_file(path))


@dataclass(frozen=True)
class _IdentityPattern:
    """A sigstore verification policy: the certificate's OIDC issuer is `issuer` and one of its SANs matches
    `pattern` (the whole SAN; sigstore's own `Identity` compares a SAN exactly)."""

    issuer: str
    pattern: str

    def verify(self, cert: Any) -> None:
        from cryptography.x509 import OtherName, RFC822Name, SubjectAlternativeName, UniformResourceIdentifier
        from sigstore.errors import VerificationError
        from sigstore.verify.policy import OIDCIssuerV2

        OIDCIssuerV2(self.issuer).verify(cert)
        sans = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
        values = [*sans.get_values_for_type(RFC822Name), *sans.get_values_for_type(UniformResourceIdentifier),
                  *(o.value.decode(errors="replace") for o in sans.get_values_for_type(OtherName))]
        if not any(re.fullmatch(self.pattern, value) for value in values):
            raise VerificationError(f"no subject matches {self.pattern!r} (subjects: {', '.join(values)[:200]})")


def _identity_policy(trust: Trust) -> VerificationPolicy:
    from sigstore.verify.policy import AnyOf

    return AnyOf([_IdentityPattern(i.issuer, i.subject_pattern) for i in trust.identities])


def _verify_bundle(content: bytes, digest: str, trust: Trust,
                   kind: Literal["signature", "attestation"]) -> tuple[str, Mapping[str, Any] | None]:
    try:
        raw = json.loads(content)
        material = raw["verificationMaterial"]
    except (ValueError, KeyError, TypeError):
        raise _Failed("bad bundle", "not a Sigstore bundle") from None
    if isinstance(material, dict) and "publicKey" in material:
        return _verify_key_bundle(raw, digest, trust, kind)
    return _verify_keyless_bundle(content, digest, trust, kind)


def _verify_key_bundle(raw: Mapping[str, Any], digest: str, trust: Trust,
                       kind: Literal["signature", "attestation"]) -> tuple[str, Mapping[str, Any] | None]:
    """A bundle signed with a key pair (its verification material names a public key, not a certificate)."""
    try:
        if "dsseEnvelope" in raw:
            return _verify_envelope(json.dumps(raw["dsseEnvelope"]).encode(), digest, trust, kind)
        message = raw["messageSignature"]
        signature = _b64(str(message["signature"]), "the bundle's signature")
        signed_digest = _b64(str(message["messageDigest"]["digest"]), "the bundle's message digest")
    except (KeyError, TypeError):
        raise _Failed("bad bundle", "neither a message signature nor a DSSE envelope") from None
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    signer = None
    for trusted in trust.keys:
        key = _public_key(trusted.public_key_pem)
        if isinstance(key, ec.EllipticCurvePublicKey):  # a message signature is over the prehashed digest
            from cryptography.exceptions import InvalidSignature

            try:
                key.verify(signature, signed_digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
            except (InvalidSignature, ValueError):
                continue
            signer = f"key {trusted.name}"
            break
    if signer is None:
        raise _Failed("unknown key", "no trusted key verifies the bundle's signature")
    if f"sha256:{signed_digest.hex()}" != digest:
        raise _Failed("signature over another digest", f"it signs sha256:{signed_digest.hex()[:12]}…")
    return signer, None


def _verify_keyless_bundle(content: bytes, digest: str, trust: Trust,
                           kind: Literal["signature", "attestation"]) -> tuple[str, Mapping[str, Any] | None]:
    from sigstore.errors import Error as SigstoreError
    from sigstore.errors import VerificationError
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle, InvalidBundle
    from sigstore_models.common.v1 import HashAlgorithm

    try:
        bundle = Bundle.from_json(content)
    except (InvalidBundle, ValueError) as exc:
        raise _Failed("bad bundle", str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    if not trust.identities:
        raise _Failed("identity not allowed", "no keyless identity is trusted (trustedIdentities)")
    if not trust.trusted_root:
        raise _Failed("bad bundle", "no Sigstore trusted root is configured (sigstoreTrustedRoot)")
    certificate = bundle.signing_certificate
    try:
        _identity_policy(trust).verify(certificate)
    except VerificationError as exc:
        raise _Failed("identity not allowed", str(exc)) from None
    subject = _subject_of(certificate)
    try:
        verifier = _verifier(trust.trusted_root)
    except (OSError, ValueError, SigstoreError) as exc:
        raise _Failed("bad bundle", f"the trusted root cannot be read ({type(exc).__name__})") from None
    try:
        if bundle._dsse_envelope is not None:
            payload_type, payload = verifier.verify_dsse(bundle, _identity_policy(trust))
            return f"identity {subject}", _statement_about(payload_type, payload, digest, kind)
        algorithm, _, value = digest.partition(":")
        if algorithm != "sha256":
            raise _Failed("signature over another digest", f"a {algorithm} digest cannot be checked")
        verifier.verify_artifact(Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(value)), bundle,
                                 _identity_policy(trust))
    except VerificationError as exc:
        raise _classify(str(exc)) from None
    except (SigstoreError, ValueError) as exc:
        raise _Failed("bad bundle", str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__) from None
    return f"identity {subject}", None


def _subject_of(certificate: Any) -> str:
    from cryptography.x509 import RFC822Name, SubjectAlternativeName, UniformResourceIdentifier

    try:
        sans = certificate.extensions.get_extension_for_class(SubjectAlternativeName).value
        values = [*sans.get_values_for_type(RFC822Name), *sans.get_values_for_type(UniformResourceIdentifier)]
    except Exception:
        values = []
    return values[0] if values else "(no subject)"


def _classify(message: str) -> _Failed:
    text = message.lower()
    if "digest mismatch" in text:
        return _Failed("signature over another digest", message)
    if "expired" in text or "validation time" in text or "not valid" in text:
        return _Failed("certificate outside its validity", message)
    if "subject" in text and "match" in text:
        return _Failed("identity not allowed", message)
    return _Failed("bad bundle", message)


def statements(verdicts: list[Verdict]) -> Iterator[Mapping[str, Any]]:
    for verdict in verdicts:
        if verdict.ok and verdict.statement is not None:
            yield verdict.statement
