"""Verifying the signatures and attestations a source attached to an image, offline, with maintained libraries:
`cryptography` for cosign key pairs (ECDSA P-256 over SHA-256, Ed25519, RSA PKCS#1 v1.5 over SHA-256, as
cosign's verifiers do) and `sigstore` for Sigstore bundles with a certificate (the chain to the configured
trusted root at the time the transparency log or a timestamp authority vouches for, the SCT, the log
entry's inclusion proof and promise, and the OIDC identity).

cosign's legacy keyless signatures (certificate and the log's promise in the layer's annotations) and the
transparency-log entries of bundles signed with a key go through the same steps of sigstore's, applied in
`sigstore_steps` (sigstore's Verifier takes neither whole). A signature that carries a log entry counts only
once the entry is checked, which needs the trusted root.

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
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from .model import ArtifactLayer, Image, SupplyChainArtifact
from .sigstore_steps import CheckFailed as _Failed
from .sigstore_steps import (
    Reason,
    check_dsse,
    check_hashedrekord,
    root_for_log,
    trusted_root,
    verify_bundle_entries,
    verify_certificate,
    verify_promise,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
    from sigstore.verify.policy import VerificationPolicy

SIMPLE_SIGNING: Final = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE: Final = "application/vnd.dsse.envelope.v1+json"
IN_TOTO_PAYLOAD: Final = "application/vnd.in-toto+json"
BUNDLE_TYPES: Final = frozenset({
    "application/vnd.dev.sigstore.bundle.v0.3+json", "application/vnd.dev.sigstore.bundle+json",
})
SIGNATURE_ANNOTATION: Final = "dev.cosignproject.cosign/signature"
CERTIFICATE_ANNOTATION: Final = "dev.sigstore.cosign/certificate"
# cosign's Rekor bundle: the transparency log's promise (SET) over the entry it made for this signature.
BUNDLE_ANNOTATION: Final = "dev.sigstore.cosign/bundle"
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


def _where(artifact: SupplyChainArtifact) -> str:
    name = artifact.tag or (artifact.digest[:19] + "…" if artifact.digest else "")
    return f"{artifact.kind} {artifact.stored_as}" + (f" {name}" if name else "")


# Verdicts already reached in this process, by what they were reached from: the release rules and the report's
# release table verify the same signatures, and a keyless one costs milliseconds.
_VERDICTS: dict[Any, list[Verdict]] = {}
_VERDICTS_KEPT: Final = 65_536


def _material(image: Image, trust: Trust, kind: str) -> Any:
    """Everything a verdict depends on, hashable: the digest, the trust, and each artifact as read."""
    return (image.digest, trust, kind, tuple(
        (a.kind, a.stored_as, a.tag, a.digest, a.read, a.problem,
         tuple((layer.media_type, tuple(sorted(layer.annotations.items())), layer.content) for layer in a.layers))
        for a in image.attached if a.kind == kind))


def verify_image(image: Image, trust: Trust, kind: Literal["signature", "attestation"]) -> list[Verdict]:
    """Each signature (or attestation) attached to `image`, verified against `trust`."""
    key = _material(image, trust, kind)
    known = _VERDICTS.get(key)
    if known is None:
        if len(_VERDICTS) >= _VERDICTS_KEPT:
            _VERDICTS.clear()
        known = _VERDICTS[key] = _verify_image(image, trust, kind)
    return list(known)


def _verify_image(image: Image, trust: Trust, kind: Literal["signature", "attestation"]) -> list[Verdict]:
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


def _signed_by_key(trust: Trust, signature: bytes, message: bytes) -> TrustedKey | None:
    """The trusted key that made `signature` over `message`, or None."""
    for trusted in trust.keys:
        if _key_verifies(_public_key(trusted.public_key_pem), signature, message):
            return trusted
    return None


def _key_der(trusted: TrustedKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return _public_key(trusted.public_key_pem).public_bytes(serialization.Encoding.DER,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo)


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _Failed("bad bundle", f"{what} is not base64") from None


def _verify_simple_signing(layer: ArtifactLayer, payload: bytes, digest: str, trust: Trust) -> str:
    """cosign's legacy signature: the layer is the payload, the annotation the signature over it; a keyless one
    carries its certificate, and either kind the log's promise when cosign entered it in the log."""
    encoded = layer.annotations.get(SIGNATURE_ANNOTATION)
    if not encoded:
        raise _Failed("no signature", "the layer carries no signature annotation")
    signature = _b64(encoded, "the signature annotation")
    key = _signed_by_key(trust, signature, payload)
    if key is not None:
        signer = f"key {key.name}"
        if promise := layer.annotations.get(BUNDLE_ANNOTATION):
            entry = verify_promise(root_for_log(trust.trusted_root), promise)
            check_hashedrekord(entry, hashlib.sha256(payload).digest(), signature, _key_der(key))
    elif CERTIFICATE_ANNOTATION in layer.annotations:
        signer = _verify_legacy_keyless(layer, payload, signature, trust)
    else:
        raise _Failed("unknown key", "no trusted key verifies it")
    try:
        signed = json.loads(payload)["critical"]["image"]["docker-manifest-digest"]
    except (ValueError, KeyError, TypeError):
        raise _Failed("bad bundle", "the signed payload is not a cosign simple-signing document") from None
    if signed != digest:
        raise _Failed("signature over another digest", f"it signs {str(signed)[:80]}")
    return signer


def _verify_legacy_keyless(layer: ArtifactLayer, payload: bytes, signature: bytes, trust: Trust) -> str:
    """A keyless legacy signature, as sigstore verifies a bundle: the log's promise says when it was signed; the
    certificate was valid then, chains to the trusted root with a valid SCT and names an allowed identity; its
    key made the signature; and the log entry records this signature, payload and certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    if not trust.identities:
        raise _Failed("identity not allowed", "a keyless signature, and no keyless identity is trusted "
                      "(trustedIdentities)")
    if not trust.trusted_root:
        raise _Failed("bad bundle", "a keyless signature, and no Sigstore trusted root is configured "
                      "(sigstoreTrustedRoot)")
    try:
        certificate = x509.load_pem_x509_certificate(layer.annotations[CERTIFICATE_ANNOTATION].encode())
    except ValueError:
        raise _Failed("bad bundle", "the certificate annotation is not a PEM certificate") from None
    promise = layer.annotations.get(BUNDLE_ANNOTATION)
    if not promise:
        raise _Failed("bad bundle", "a keyless signature without the transparency log's promise "
                      f"({BUNDLE_ANNOTATION}): when it was signed cannot be established")
    root = trusted_root(trust.trusted_root)
    entry = verify_promise(root, promise)
    if entry.integrated_time is None:
        raise _Failed("bad bundle", "the transparency log's promise carries no time")
    verify_certificate(root, certificate, entry.integrated_time, _identity_policy(trust))
    if not _key_verifies(certificate.public_key(), signature, payload):
        raise _Failed("bad bundle", "the signature does not verify with its certificate's key")
    check_hashedrekord(entry, hashlib.sha256(payload).digest(), signature,
                       certificate.public_bytes(serialization.Encoding.DER))
    return f"identity {_subject_of(certificate)}"


# -- DSSE envelopes (cosign attestations made with a key) -----------------------------------------------------


def _pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _verify_envelope(content: bytes, digest: str, trust: Trust, kind: Literal["signature", "attestation"],
                     log_entries: object = None) -> tuple[str, Mapping[str, Any]]:
    """A DSSE envelope signed with a key; with `log_entries` (a key-signed bundle's), the log entry is checked
    and must record this envelope and key."""
    try:
        envelope = json.loads(content)
        payload_type = str(envelope["payloadType"])
        payload = _b64(str(envelope["payload"]), "the DSSE payload")
        encoded = [str(s["sig"]) for s in envelope["signatures"]]
        signatures = [_b64(sig, "a DSSE signature") for sig in encoded]
    except (ValueError, KeyError, TypeError):
        raise _Failed("bad bundle", "not a DSSE envelope") from None
    if not signatures:
        raise _Failed("no signature", "the DSSE envelope carries no signature")
    message = _pae(payload_type, payload)
    key = next((k for k in (_signed_by_key(trust, sig, message) for sig in signatures) if k), None)
    if key is None:
        raise _Failed("unknown key", "no trusted key verifies the envelope")
    if log_entries:
        entry = verify_bundle_entries(root_for_log(trust.trusted_root), log_entries)
        check_dsse(entry, payload, encoded, _key_der(key))
    return f"key {key.name}", _statement_about(payload_type, payload, digest, kind)


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
    from sigstore.verify import Verifier

    return Verifier(trusted_root=trusted_root(path))


@dataclass(frozen=True)
class _IdentityPattern:
    """A sigstore verification policy: the certificate's OIDC issuer is `issuer` and one of its SANs matches
    `pattern` (the whole SAN; sigstore's own `Identity` compares a SAN exactly)."""

    issuer: str
    pattern: str

    def verify(self, cert: Any) -> None:
        from cryptography.x509 import (
            ExtensionNotFound,
            ObjectIdentifier,
            OtherName,
            RFC822Name,
            SubjectAlternativeName,
            UniformResourceIdentifier,
        )
        from sigstore.errors import VerificationError
        from sigstore.verify.policy import OIDCIssuer, OIDCIssuerV2

        # Fulcio writes the issuer twice since 2023 (1.1 raw, 1.8 as a DER string); older certificates carry 1.1
        # only. Where 1.8 is present it is the one that counts.
        try:
            cert.extensions.get_extension_for_oid(ObjectIdentifier("1.3.6.1.4.1.57264.1.8"))
        except ExtensionNotFound:
            OIDCIssuer(self.issuer).verify(cert)
        else:
            OIDCIssuerV2(self.issuer).verify(cert)
        sans = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
        values = [*sans.get_values_for_type(RFC822Name), *sans.get_values_for_type(UniformResourceIdentifier),
                  *(o.value.decode(errors="replace") for o in sans.get_values_for_type(OtherName))]
        if not any(re.fullmatch(self.pattern, value) for value in values):
            raise VerificationError(f"no subject matches {self.pattern!r} (subjects: {', '.join(values)[:200]})")


@dataclass(frozen=True)
class _AnyIdentity:
    """A sigstore verification policy: one of the trusted identities signed. Its refusal names who did sign
    (the certificate's subject and issuer), which sigstore's `AnyOf` does not."""

    identities: tuple[_IdentityPattern, ...]

    def verify(self, cert: Any) -> None:
        from sigstore.errors import VerificationError

        for identity in self.identities:
            try:
                identity.verify(cert)
            except VerificationError:
                continue
            return
        raise VerificationError(f"signed by {_subject_of(cert)} (issuer {_issuer_of(cert)}), which no "
                                "trustedIdentities entry matches")


def _identity_policy(trust: Trust) -> VerificationPolicy:
    return _AnyIdentity(tuple(_IdentityPattern(i.issuer, i.subject_pattern) for i in trust.identities))


def _issuer_of(certificate: Any) -> str:
    """The OIDC issuer a Fulcio certificate names (1.8 where present, else 1.1)."""
    from cryptography.x509 import ExtensionNotFound, ObjectIdentifier

    for oid, der in (("1.3.6.1.4.1.57264.1.8", True), ("1.3.6.1.4.1.57264.1.1", False)):
        try:
            raw: bytes = certificate.extensions.get_extension_for_oid(ObjectIdentifier(oid)).value.value
        except (ExtensionNotFound, AttributeError):
            continue
        if der and len(raw) > 2 and raw[0] == 0x0C:
            raw = raw[2:] if raw[1] < 0x80 else raw[2 + (raw[1] & 0x7F):]
        return raw.decode(errors="replace")[:200]
    return "(none)"


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
    entries = raw["verificationMaterial"].get("tlogEntries")
    try:
        if "dsseEnvelope" in raw:
            return _verify_envelope(json.dumps(raw["dsseEnvelope"]).encode(), digest, trust, kind, entries)
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
            signer = trusted
            break
    if signer is None:
        raise _Failed("unknown key", "no trusted key verifies the bundle's signature")
    if entries:
        entry = verify_bundle_entries(root_for_log(trust.trusted_root), entries)
        check_hashedrekord(entry, signed_digest, signature, _key_der(signer))
    if f"sha256:{signed_digest.hex()}" != digest:
        raise _Failed("signature over another digest", f"it signs sha256:{signed_digest.hex()[:12]}…")
    return f"key {signer.name}", None


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
