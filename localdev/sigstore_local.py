"""A throwaway Sigstore, minted with `cryptography`, for keyless signatures the tests and the demo make without
Fulcio, Rekor or a CT log: a certificate authority that issues short-lived signing certificates carrying the
OIDC identity and issuer as Fulcio writes them (with an embedded SCT from a local CT log key), a transparency-log
key that signs entries' promises (SETs) and checkpoints, and the `trusted_root.json` that names all three, so
`sigstore` verifies what it makes exactly as it verifies the public instance's.

Every log entry is the only leaf of its own one-entry tree (index 0, size 1): its inclusion proof is empty and
its root hash is the leaf hash, which is what RFC 6962 says for such a tree, so the proof and the checkpoint
are real ones that the verifier checks in full.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

OIDC_ISSUER_V1: Final = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")  # the issuer, raw (Fulcio's first form)
OIDC_ISSUER_V2: Final = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")  # the issuer, a DER UTF8String
SCT_LIST: Final = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
LOG_ORIGIN: Final = "rekor.registry-guard.test - 1"
BUNDLE_V03: Final = "application/vnd.dev.sigstore.bundle.v0.3+json"


def _der_spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _utf8_string(text: str) -> bytes:
    raw = text.encode()
    return bytes([0x0C]) + _der_length(len(raw)) + raw


@dataclass(frozen=True)
class Signer:
    """A signing key and the certificate the local CA issued for it."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message, ec.ECDSA(hashes.SHA256()))


@dataclass(frozen=True)
class LogEntry:
    """One transparency-log entry as a bundle and cosign's Rekor bundle annotation carry it."""

    body: bytes  # the canonicalized entry body
    integrated_time: int
    log_index: int
    log_id: bytes  # SHA-256 of the log key's DER SubjectPublicKeyInfo
    signed_entry_timestamp: bytes
    root_hash: bytes
    checkpoint: str
    kind: str

    def bundle_entry(self) -> dict[str, Any]:
        """The entry as a Sigstore bundle's `verificationMaterial.tlogEntries[]` item."""
        return {
            "logIndex": str(self.log_index), "logId": {"keyId": _b64(self.log_id)},
            "kindVersion": {"kind": self.kind, "version": "0.0.1"}, "integratedTime": str(self.integrated_time),
            "inclusionPromise": {"signedEntryTimestamp": _b64(self.signed_entry_timestamp)},
            "inclusionProof": {"logIndex": "0", "rootHash": _b64(self.root_hash), "treeSize": "1", "hashes": [],
                               "checkpoint": {"envelope": self.checkpoint}},
            "canonicalizedBody": _b64(self.body),
        }

    def cosign_bundle(self) -> str:
        """The entry as cosign's `dev.sigstore.cosign/bundle` annotation holds it (a promise, no proof)."""
        return json.dumps({"SignedEntryTimestamp": _b64(self.signed_entry_timestamp),
                           "Payload": {"body": _b64(self.body), "integratedTime": self.integrated_time,
                                       "logIndex": self.log_index, "logID": self.log_id.hex()}})


@dataclass
class LocalSigstore:
    """The CA, CT log and transparency log of one throwaway Sigstore instance, valid from `start`."""

    start: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC)
                                     - datetime.timedelta(hours=1))
    ca_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP384R1()))
    ct_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    log_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    next_index: int = 0

    def __post_init__(self) -> None:
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "registry-guard.test"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "sigstore")])
        public = self.ca_key.public_key()
        self.ca_certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
            .serial_number(x509.random_serial_number()).not_valid_before(self.start)
            .not_valid_after(self.start + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self.ca_key, hashes.SHA384())
        )

    @property
    def log_id(self) -> bytes:
        return hashlib.sha256(_der_spki(self.log_key.public_key())).digest()

    def trusted_root(self, *, with_ca: bool = True) -> dict[str, Any]:
        """This instance as a Sigstore `trusted_root.json` (without its CA when `with_ca` is False)."""
        start = self.start.strftime("%Y-%m-%dT%H:%M:%SZ")

        def log(base_url: str, key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
            spki = _der_spki(key.public_key())
            return {"baseUrl": base_url, "hashAlgorithm": "SHA2_256",
                    "publicKey": {"rawBytes": _b64(spki), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                  "validFor": {"start": start}},
                    "logId": {"keyId": _b64(hashlib.sha256(spki).digest())}}

        authorities = [{
            "subject": {"organization": "registry-guard.test", "commonName": "sigstore"},
            "uri": "https://fulcio.registry-guard.test",
            "certChain": {"certificates": [{"rawBytes": _b64(self.ca_certificate.public_bytes(
                serialization.Encoding.DER))}]},
            "validFor": {"start": start},
        }] if with_ca else []
        return {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                "tlogs": [log("https://rekor.registry-guard.test", self.log_key)],
                "certificateAuthorities": authorities,
                "ctlogs": [log("https://ctfe.registry-guard.test", self.ct_key)],
                "timestampAuthorities": []}

    # -- certificates ----------------------------------------------------------------------------------------

    def issue(self, subject: str, issuer: str, *, at: datetime.datetime | None = None,
              minutes: int = 10) -> Signer:
        """A signing certificate for `subject` (an email address or a URI, as Fulcio puts it in the SAN) from
        the OIDC `issuer`, valid for `minutes` from `at`, with an embedded SCT as Fulcio's carry."""
        key = ec.generate_private_key(ec.SECP256R1())
        not_before = at or datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
        san: x509.GeneralName = (x509.RFC822Name(subject) if "@" in subject and "://" not in subject
                                 else x509.UniformResourceIdentifier(subject))
        builder = (
            x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(self.ca_certificate.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_before + datetime.timedelta(minutes=minutes))
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName([san]), critical=True)
            .add_extension(x509.UnrecognizedExtension(OIDC_ISSUER_V1, issuer.encode()), critical=False)
            .add_extension(x509.UnrecognizedExtension(OIDC_ISSUER_V2, _utf8_string(issuer)), critical=False)
        )
        # The SCT signs the certificate without its SCT list (the precertificate's TBS), so it can be made
        # first and embedded after: the final certificate's `tbs_precertificate_bytes` is that same TBS.
        precertificate = builder.sign(self.ca_key, hashes.SHA384())
        sct = self._sct(precertificate.tbs_certificate_bytes, not_before)
        certificate = builder.add_extension(x509.UnrecognizedExtension(SCT_LIST, sct), critical=False).sign(
            self.ca_key, hashes.SHA384())
        if certificate.tbs_precertificate_bytes != precertificate.tbs_certificate_bytes:
            raise RuntimeError("the embedded SCT would not sign this certificate")
        return Signer(key, certificate)

    def _sct(self, tbs: bytes, when: datetime.datetime) -> bytes:
        """An RFC 6962 SCT list (DER OCTET STRING of the TLS encoding) with one precertificate SCT."""
        log_id = hashlib.sha256(_der_spki(self.ct_key.public_key())).digest()
        issuer_key_hash = hashlib.sha256(_der_spki(self.ca_key.public_key())).digest()
        millis = int(when.timestamp() * 1000)
        signed = (struct.pack("!BBQH", 0, 0, millis, 1) + issuer_key_hash + len(tbs).to_bytes(3, "big") + tbs
                  + struct.pack("!H", 0))
        signature = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (struct.pack("!B", 0) + log_id + struct.pack("!QH", millis, 0) + struct.pack("!BBH", 4, 3, len(signature))
               + signature)
        listed = struct.pack("!H", len(sct)) + sct
        tls = struct.pack("!H", len(listed)) + listed
        return bytes([0x04]) + _der_length(len(tls)) + tls

    # -- the transparency log --------------------------------------------------------------------------------

    def log(self, body: Mapping[str, Any], *, integrated_time: int | None = None) -> LogEntry:
        """Enter `body` (a Rekor entry: hashedrekord or dsse 0.0.1) in the log: its promise and its proof."""
        canonical = rfc8785.dumps(dict(body))
        when = integrated_time if integrated_time is not None else int(
            datetime.datetime.now(datetime.UTC).timestamp())
        index = self.next_index
        self.next_index += 1
        log_id = self.log_id
        promise = rfc8785.dumps({"body": _b64(canonical), "integratedTime": when, "logID": log_id.hex(),
                                 "logIndex": index})
        signed_entry_timestamp = self.log_key.sign(promise, ec.ECDSA(hashes.SHA256()))
        root = hashlib.sha256(b"\x00" + canonical).digest()  # a one-leaf tree's root is its leaf hash
        note = f"{LOG_ORIGIN}\n1\n{_b64(root)}\n"
        note_signature = self.log_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        checkpoint = f"{note}\n\u2014 {LOG_ORIGIN.split(' ')[0]} {_b64(log_id[:4] + note_signature)}\n"
        return LogEntry(canonical, when, index, log_id, signed_entry_timestamp, root, checkpoint,
                        str(body["kind"]))


def hashedrekord(signature: bytes, verifier_pem: str, payload: bytes) -> dict[str, Any]:
    """A hashedrekord 0.0.1 entry body: the SHA-256 of what was signed, the signature and the verifier (a
    certificate or public key, PEM)."""
    return {"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()}},
        "signature": {"content": _b64(signature), "publicKey": {"content": _b64(verifier_pem.encode())}}}}


def dsse_entry(envelope: Mapping[str, Any], verifier_pem: str) -> dict[str, Any]:
    """A dsse 0.0.1 entry body for `envelope` (its payload's hash, its signatures and their verifier)."""
    payload = base64.b64decode(str(envelope["payload"]))
    return {"apiVersion": "0.0.1", "kind": "dsse", "spec": {
        "envelopeHash": {"algorithm": "sha256",
                         "value": hashlib.sha256(json.dumps(envelope).encode()).hexdigest()},
        "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
        "signatures": [{"signature": str(s["sig"]), "verifier": _b64(verifier_pem.encode())}
                       for s in envelope["signatures"]]}}


__all__ = ["BUNDLE_V03", "LocalSigstore", "LogEntry", "Signer", "dsse_entry", "hashedrekord"]
