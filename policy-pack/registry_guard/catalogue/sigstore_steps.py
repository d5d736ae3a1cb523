"""sigstore's own verification steps, applied to what its `Verifier` does not take whole.

Two kinds of material need them:

* cosign's legacy keyless signatures: the signing certificate and the transparency log's promise (cosign's
  "Rekor bundle": the entry's body, index, time and signed entry timestamp) sit in the signature layer's
  annotations. There is no inclusion proof, which sigstore's bundle model requires of every entry, so the
  material cannot become a bundle sigstore verifies.
* the transparency-log entries of bundles signed with a key: sigstore verifies bundles with a certificate only.

The steps are sigstore's, run with its functions on the trusted root's keys: the entry's Merkle inclusion proof,
signed checkpoint and promise (SET); for a certificate, its chain to the trusted root's CAs at the time the log
vouches for, its SCT, key usage and extended key usage, and the identity policy; and the entry's consistency
with the signature it says it records (what CVE-2022-36056 was about). Some of these functions are sigstore's
internal ones (sigstore is pinned); the tests verify real cosign and sigstore-python fixtures through each step,
so an upgrade that changed them fails there.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from sigstore.models import TrustedRoot
    from sigstore.verify.policy import VerificationPolicy

Reason = Literal[
    "no signature", "signature over another digest", "unknown key", "identity not allowed",
    "certificate outside its validity", "bad bundle", "not read",
]


class CheckFailed(Exception):
    """Why a signature does not count: the reason a finding names, and the detail."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(reason)
        self.reason: Reason = reason
        self.detail = detail[:300]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@functools.lru_cache(maxsize=8)
def trusted_root(path: str) -> TrustedRoot:
    """The Sigstore trusted root at `path` (read once per process)."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import TrustedRoot

    try:
        return TrustedRoot.from_file(path)
    except (OSError, ValueError, SigstoreError) as exc:
        raise CheckFailed("bad bundle", f"the trusted root cannot be read ({type(exc).__name__})") from None


def root_for_log(path: str | None) -> TrustedRoot:
    """The trusted root a transparency-log entry is checked against; an entry that cannot be checked does not
    count (cosign, too, refuses to skip the log unless told to)."""
    if not path:
        raise CheckFailed("bad bundle", "it carries a transparency-log entry, which is checked against "
                          "sigstoreTrustedRoot: none is configured")
    return trusted_root(path)


# -- the transparency log -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedEntry:
    """A transparency-log entry whose promise (and proof, where it has one) verified: what it records and when."""

    body: Mapping[str, Any]
    integrated_time: datetime | None


def _body(canonical: bytes) -> Mapping[str, Any]:
    try:
        body = json.loads(canonical)
    except ValueError:
        raise CheckFailed("bad bundle", "the transparency-log entry's body is not JSON") from None
    if not isinstance(body, dict):
        raise CheckFailed("bad bundle", "the transparency-log entry's body is not a JSON object")
    return body


def verify_promise(root: TrustedRoot, annotation: str) -> LoggedEntry:
    """cosign's Rekor bundle (`dev.sigstore.cosign/bundle`): the log's signed entry timestamp over the entry's
    body, time, index and log id, verified with the trusted root's log keys."""
    import rfc8785
    from sigstore._internal.trust import KeyringPurpose
    from sigstore._utils import KeyID
    from sigstore.errors import VerificationError

    try:
        raw = json.loads(annotation)
        payload = raw["Payload"]
        encoded_body, log_id = str(payload["body"]), str(payload["logID"])
        integrated_time, log_index = int(payload["integratedTime"]), int(payload["logIndex"])
        signature = base64.b64decode(str(raw["SignedEntryTimestamp"]), validate=True)
        key_id = bytes.fromhex(log_id)
        canonical = base64.b64decode(encoded_body, validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise CheckFailed("bad bundle", "the Rekor bundle annotation is not cosign's bundle") from None
    try:
        # What the log signed: the entry's body, time, log id and index, canonicalized (RFC 8785).
        promise = rfc8785.dumps({"body": encoded_body, "integratedTime": integrated_time, "logID": log_id,
                                 "logIndex": log_index})
        root.rekor_keyring(KeyringPurpose.VERIFY).verify(key_id=KeyID(key_id), signature=signature, data=promise)
    except VerificationError as exc:
        raise CheckFailed("bad bundle", f"the transparency log's promise (SET) does not verify: "
                          f"{_first_line(exc)}") from None
    try:
        signed_at = datetime.fromtimestamp(integrated_time, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise CheckFailed("bad bundle", "the transparency log's promise names a time out of range") from None
    return LoggedEntry(_body(canonical), signed_at)


def verify_bundle_entries(root: TrustedRoot, entries: object) -> LoggedEntry:
    """A bundle's one transparency-log entry: its Merkle inclusion proof, signed checkpoint and promise."""
    from sigstore._internal.trust import KeyringPurpose
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import TransparencyLogEntry
    from sigstore_models.rekor.v1 import TransparencyLogEntry as RawEntry

    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
        raise CheckFailed("bad bundle", "a bundle carries exactly one transparency-log entry")

    try:
        entry = TransparencyLogEntry(RawEntry.from_dict(entries[0]))
    except (ValueError, SigstoreError) as exc:
        raise CheckFailed("bad bundle", f"its transparency-log entry is malformed: {_first_line(exc)}") from None
    try:
        entry._verify(root.rekor_keyring(KeyringPurpose.VERIFY))
    except (ValueError, SigstoreError) as exc:
        raise CheckFailed("bad bundle", f"its transparency-log entry does not verify: {_first_line(exc)}") \
            from None
    seconds = entry._inner.integrated_time
    try:
        signed_at = datetime.fromtimestamp(int(seconds), tz=UTC) if seconds else None
    except (OverflowError, OSError, ValueError):
        raise CheckFailed("bad bundle", "its transparency-log entry names a time out of range") from None
    return LoggedEntry(_body(entry._inner.canonicalized_body), signed_at)


def _b64_field(value: object, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise CheckFailed("bad bundle", f"the transparency-log entry's {what} is not base64") from None


def _same_verifier(recorded: bytes, verifier_der: bytes) -> bool:
    """Whether a log entry's verifier (a PEM certificate or public key) is `verifier_der` (DER of the same)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        if b"CERTIFICATE" in recorded:
            return x509.load_pem_x509_certificate(recorded).public_bytes(serialization.Encoding.DER) == verifier_der
        key = serialization.load_pem_public_key(recorded)
        return key.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo) == verifier_der
    except ValueError:
        return False


def check_hashedrekord(entry: LoggedEntry, message_sha256: bytes, signature: bytes, verifier_der: bytes) -> None:
    """The entry records this signature, over this message's digest, by this verifier."""
    body = entry.body
    try:
        if body.get("kind") != "hashedrekord" or body.get("apiVersion") != "0.0.1":
            raise CheckFailed("bad bundle", f"its transparency-log entry is a {str(body.get('kind'))[:40]} "
                              f"{str(body.get('apiVersion'))[:20]} entry, not a hashedrekord 0.0.1 one")
        spec = body["spec"]
        recorded_hash = spec["data"]["hash"]
        recorded_signature = _b64_field(spec["signature"]["content"], "signature")
        recorded_verifier = _b64_field(spec["signature"]["publicKey"]["content"], "verifier")
    except (KeyError, TypeError):
        raise CheckFailed("bad bundle", "its transparency-log entry is not a hashedrekord entry") from None
    if recorded_hash != {"algorithm": "sha256", "value": message_sha256.hex()}:
        raise CheckFailed("bad bundle", "its transparency-log entry records another message")
    if recorded_signature != signature:
        raise CheckFailed("bad bundle", "its transparency-log entry records another signature")
    if not _same_verifier(recorded_verifier, verifier_der):
        raise CheckFailed("bad bundle", "its transparency-log entry records another key or certificate")


def check_dsse(entry: LoggedEntry, payload: bytes, signatures: Sequence[str], verifier_der: bytes) -> None:
    """The entry records this DSSE envelope's payload and signatures, by this verifier."""
    body = entry.body
    try:
        if body.get("kind") != "dsse" or body.get("apiVersion") != "0.0.1":
            raise CheckFailed("bad bundle", f"its transparency-log entry is a {str(body.get('kind'))[:40]} entry, "
                              "not a dsse 0.0.1 one")
        spec = body["spec"]
        payload_hash = spec["payloadHash"]
        recorded = [(str(s["signature"]), _b64_field(s["verifier"], "verifier")) for s in spec["signatures"]]
    except (KeyError, TypeError):
        raise CheckFailed("bad bundle", "its transparency-log entry is not a dsse entry") from None
    if payload_hash != {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()}:
        raise CheckFailed("bad bundle", "its transparency-log entry records another payload")
    if sorted(s for s, _ in recorded) != sorted(signatures):
        raise CheckFailed("bad bundle", "its transparency-log entry records other signatures")
    if not all(_same_verifier(v, verifier_der) for _, v in recorded):
        raise CheckFailed("bad bundle", "its transparency-log entry records another key or certificate")


# -- signing certificates -------------------------------------------------------------------------------------


def verify_certificate(root: TrustedRoot, certificate: Certificate, signed_at: datetime,
                       policy: VerificationPolicy) -> None:
    """A signing certificate, as sigstore's Verifier checks one at the time the log vouches for: valid then,
    chained to the trusted root's CAs, with a valid SCT, for code signing, and of an allowed identity."""
    from cryptography.x509 import ExtendedKeyUsage, ExtensionNotFound, KeyUsage
    from cryptography.x509.oid import ExtendedKeyUsageOID
    from sigstore._internal.sct import verify_sct
    from sigstore._internal.timestamp import TimestampSource, TimestampVerificationResult
    from sigstore._internal.trust import KeyringPurpose
    from sigstore.errors import Error as SigstoreError
    from sigstore.errors import VerificationError
    from sigstore.verify import Verifier

    if not certificate.not_valid_before_utc <= signed_at <= certificate.not_valid_after_utc:
        raise CheckFailed("certificate outside its validity", f"signed at {signed_at:%Y-%m-%dT%H:%M:%SZ}, the "
                          f"certificate is valid from {certificate.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} to "
                          f"{certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}")
    try:
        chain = Verifier(trusted_root=root)._verify_chain_at_time(
            certificate, TimestampVerificationResult(source=TimestampSource.TRANSPARENCY_SERVICE, time=signed_at))
    except (SigstoreError, ValueError) as exc:
        raise CheckFailed("bad bundle", f"the certificate does not chain to the trusted root: "
                          f"{_first_line(exc)}") from None
    try:
        verify_sct(certificate, chain, root.ct_keyring(KeyringPurpose.VERIFY))
    except (SigstoreError, ValueError) as exc:
        raise CheckFailed("bad bundle", f"the certificate's SCT does not verify: {_first_line(exc)}") from None
    try:
        usage = certificate.extensions.get_extension_for_class(KeyUsage).value
        extended = certificate.extensions.get_extension_for_class(ExtendedKeyUsage).value
    except ExtensionNotFound:
        raise CheckFailed("bad bundle", "the certificate is not a signing certificate") from None
    if not usage.digital_signature or ExtendedKeyUsageOID.CODE_SIGNING not in extended:
        raise CheckFailed("bad bundle", "the certificate is not for code signing")
    try:
        policy.verify(certificate)
    except VerificationError as exc:
        raise CheckFailed("identity not allowed", _first_line(exc)) from None


__all__ = [
    "CheckFailed", "LoggedEntry", "Reason", "check_dsse", "check_hashedrekord", "root_for_log", "trusted_root",
    "verify_bundle_entries", "verify_certificate", "verify_promise",
]
