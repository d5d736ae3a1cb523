"""Interop with the real tools: signatures cosign and sigstore-python made against the real Sigstore services
(their published test data, vendored in fixtures/sigstore with its licence) are verified, and tampered variants
are refused, each for the reason it names.

* The bundle-as-referrer format: cosign's `oci-attestation.sigstore.json`, a keyless Sigstore bundle about
  go-containerregistry's empty image, verified against the public-good trusted root; then end to end, pushed
  to a real registry as cosign stores it (an OCI 1.1 referrer of that exact image) and found by the scan.
* The legacy `.sig` format: sigstore-python's offline-rekor signature, certificate and Rekor bundle, laid out
  as cosign writes a keyless signature layer's annotations, verified against the staging trusted root. Its
  payload is a text file, not a simple-signing document: it passes every cryptographic step (the promise, the
  certificate at the logged time with its chain, SCT and identity, the signature, the entry's consistency) and
  is then refused for what it signs, which is the last check made. Complete legacy keyless image signatures
  are made by a local Sigstore instance in the release-signed cases and the end-to-end test below.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from registry_guard.catalogue.model import ArtifactLayer, Image, ResourceRef, SupplyChainArtifact
from registry_guard.catalogue.signatures import KeylessIdentity, Trust, Verdict, verify_image

from audit.scan import ScanOptions, run_scan
from audit.settings_file import load_settings
from localdev.cosign import (
    BUNDLE_ANNOTATION,
    CERTIFICATE_ANNOTATION,
    SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING,
    push_bundle,
    sign_image_keyless,
)
from localdev.oci_push import push_image, push_raw_image
from localdev.oci_registry import LocalRegistry
from localdev.sigstore_local import BUNDLE_V03, LocalSigstore

FIXTURES = Path(__file__).parent / "fixtures" / "sigstore"
COSIGN = FIXTURES / "cosign"
PYTHON = FIXTURES / "sigstore-python"
PUBLIC_GOOD_ROOT = COSIGN / "trusted_root_pgi.json"
STAGING_ROOT = PYTHON / "staging_trusted_root.json"

# go-containerregistry's empty image, byte for byte as `empty.Image` serializes it: the image cosign's test
# attested. Its digest is the statement's subject.
EMPTY_CONFIG = (b'{"architecture":"","created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers",'
                b'"diff_ids":null},"config":{}}')
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
EMPTY_MANIFEST = (b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
                  b'"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,'
                  b'"digest":"sha256:%s"},"layers":[]}')
EMPTY_IMAGE = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4"
ATTESTATION_PREDICATE = "https://cosign.sigstore.dev/attestation/v1"
CODY = KeylessIdentity("https://github.com/login/oauth", r"cody@soyland\.com")
WILLIAM = KeylessIdentity("https://github.com/login/oauth", r"william@yossarian\.net")
REPO = ResourceRef("repository", "registry.example")


def _empty_image() -> tuple[bytes, bytes]:
    import hashlib

    return EMPTY_MANIFEST % (len(EMPTY_CONFIG), hashlib.sha256(EMPTY_CONFIG).hexdigest().encode()), EMPTY_CONFIG


def _image(digest: str, *attached: SupplyChainArtifact) -> Image:
    return Image(REPO, "models/empty", digest, ("v1.0.0",), attached=attached)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- the bundle-as-referrer format: cosign's keyless attestation ------------------------------------------------


def _cosign_bundle() -> dict[str, Any]:
    return dict(json.loads((COSIGN / "oci-attestation.sigstore.json").read_bytes()))


def _referrer(bundle: dict[str, Any]) -> SupplyChainArtifact:
    content = json.dumps(bundle).encode()
    return SupplyChainArtifact("attestation", "referrer", digest="sha256:" + "b" * 64, artifact_type=BUNDLE_V03,
                               layers=(ArtifactLayer(BUNDLE_V03, "sha256:" + "c" * 64, {}, content),), read=True)


def _entry(bundle: dict[str, Any]) -> Any:
    """The bundle's log entry itself (changed in place)."""
    return bundle["verificationMaterial"]["tlogEntries"][0]


def _restate(bundle: dict[str, Any]) -> None:
    """The statement rewritten to name another image (the signature left as it was)."""
    envelope = bundle["dsseEnvelope"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["subject"][0]["digest"]["sha256"] = "0" * 64
    envelope["payload"] = _b64(json.dumps(statement).encode())


def _flip_proof(bundle: dict[str, Any]) -> None:
    hashes = _entry(bundle)["inclusionProof"]["hashes"]
    hashes[0] = _b64(bytes(32))


def _flip_checkpoint(bundle: dict[str, Any]) -> None:
    proof = _entry(bundle)["inclusionProof"]
    proof["checkpoint"]["envelope"] = proof["checkpoint"]["envelope"].replace("53604735\n", "53604736\n", 1)


def _flip_promise(bundle: dict[str, Any]) -> None:
    promise = _entry(bundle)["inclusionPromise"]
    signature = bytearray(base64.b64decode(promise["signedEntryTimestamp"]))
    signature[-1] ^= 1
    promise["signedEntryTimestamp"] = _b64(bytes(signature))


def _move_time(bundle: dict[str, Any]) -> None:
    entry = _entry(bundle)
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 60)


def _swap_certificate(bundle: dict[str, Any]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    other = x509.load_pem_x509_certificate((PYTHON / "offline-rekor.txt.crt").read_bytes())
    bundle["verificationMaterial"]["certificate"]["rawBytes"] = _b64(other.public_bytes(serialization.Encoding.DER))


@dataclass(frozen=True)
class Variant:
    name: str
    change: Callable[[dict[str, Any]], None] = lambda _: None
    trust: Trust = field(default_factory=lambda: Trust(identities=(CODY,), trusted_root=str(PUBLIC_GOOD_ROOT)))
    digest: str = EMPTY_IMAGE
    reason: str | None = None  # None: it verifies
    detail: str = ""


BUNDLE_VARIANTS = [
    Variant("as cosign made it"),
    Variant("attached to another image", digest="sha256:" + "0" * 64, reason="signature over another digest"),
    Variant("another identity is trusted",
            trust=Trust(identities=(KeylessIdentity(CODY.issuer, r"someone@else\.example"),),
                        trusted_root=str(PUBLIC_GOOD_ROOT)), reason="identity not allowed",
            detail="signed by cody@soyland.com (issuer https://github.com/login/oauth)"),
    Variant("another issuer is trusted",
            trust=Trust(identities=(KeylessIdentity("https://accounts.google.com", CODY.subject_pattern),),
                        trusted_root=str(PUBLIC_GOOD_ROOT)), reason="identity not allowed"),
    Variant("statement rewritten to name another image", _restate, digest="sha256:" + "0" * 64,
            reason="bad bundle"),
    Variant("inclusion proof tampered", _flip_proof, reason="bad bundle", detail="inclusion proof"),
    Variant("checkpoint tampered", _flip_checkpoint, reason="bad bundle", detail="checkpoint"),
    Variant("log's promise tampered", _flip_promise, reason="bad bundle", detail="inclusion promise"),
    Variant("integrated time moved", _move_time, reason="bad bundle", detail="inclusion promise"),
    Variant("certificate of another signer", _swap_certificate, reason="identity not allowed"),
    Variant("verified against the staging root", trust=Trust(identities=(CODY,), trusted_root=str(STAGING_ROOT)),
            reason="bad bundle", detail="chain"),
]


@pytest.mark.parametrize("variant", BUNDLE_VARIANTS, ids=[v.name for v in BUNDLE_VARIANTS])
def test_cosign_keyless_bundle(variant: Variant) -> None:
    bundle = _cosign_bundle()
    variant.change(bundle)
    [verdict] = verify_image(_image(variant.digest, _referrer(bundle)), variant.trust, "attestation")
    _expect(verdict, variant)
    if variant.reason is None:
        assert verdict.signer == "identity cody@soyland.com"
        assert verdict.statement is not None and verdict.statement["predicateType"] == ATTESTATION_PREDICATE


def _expect(verdict: Verdict, variant: Variant) -> None:
    if variant.reason is None:
        assert verdict.ok, verdict.describe()
        return
    assert not verdict.ok and verdict.reason == variant.reason, verdict.describe()
    assert variant.detail.lower() in verdict.detail.lower(), verdict.describe()


# -- the legacy .sig format: sigstore-python's keyless signature as cosign lays out the annotations ------------


def _legacy_annotations() -> dict[str, str]:
    return {SIGNATURE_ANNOTATION: (PYTHON / "offline-rekor.txt.sig").read_text().strip(),
            CERTIFICATE_ANNOTATION: (PYTHON / "offline-rekor.txt.crt").read_text(),
            BUNDLE_ANNOTATION: (PYTHON / "offline-rekor.txt.rekor").read_text()}


def _legacy(annotations: dict[str, str], payload: bytes) -> SupplyChainArtifact:
    layer = ArtifactLayer(SIMPLE_SIGNING, "sha256:" + "d" * 64, annotations, payload)
    return SupplyChainArtifact("signature", "cosign-tag", digest="sha256:" + "e" * 64, tag="sha256-x.sig",
                               layers=(layer,), read=True)


def _tamper_promise(annotations: dict[str, str]) -> None:
    promise = json.loads(annotations[BUNDLE_ANNOTATION])
    promise["Payload"]["integratedTime"] += 1
    annotations[BUNDLE_ANNOTATION] = json.dumps(promise)


def _swap_legacy_certificate(annotations: dict[str, str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    raw = base64.b64decode(_cosign_bundle()["verificationMaterial"]["certificate"]["rawBytes"])
    annotations[CERTIFICATE_ANNOTATION] = x509.load_der_x509_certificate(raw).public_bytes(
        serialization.Encoding.PEM).decode()


@dataclass(frozen=True)
class LegacyVariant:
    name: str
    reason: str
    detail: str
    change: Callable[[dict[str, str]], None] = lambda _: None
    payload: Callable[[bytes], bytes] = lambda p: p
    trust: Trust = field(default_factory=lambda: Trust(identities=(WILLIAM,), trusted_root=str(STAGING_ROOT)))


LEGACY_VARIANTS = [
    # Every cryptographic step passes; what it signs is then refused (the last check).
    LegacyVariant("as cosign lays it out", "bad bundle", "the signed payload is not a cosign simple-signing document"),
    LegacyVariant("payload altered", "bad bundle", "does not verify with its certificate's key",
                  payload=lambda p: p.replace(b"DO NOT", b"DO")),
    LegacyVariant("log's promise altered", "bad bundle", "promise (SET) does not verify", _tamper_promise),
    LegacyVariant("without the log's promise", "bad bundle", "when it was signed cannot be established",
                  lambda a: a.pop(BUNDLE_ANNOTATION)),
    LegacyVariant("certificate of another signer", "certificate outside its validity", "signed at 2022-10-13",
                  _swap_legacy_certificate),
    LegacyVariant("another identity is trusted", "identity not allowed", "signed by william@yossarian.net",
                  trust=Trust(identities=(KeylessIdentity(WILLIAM.issuer, r"cody@soyland\.com"),),
                              trusted_root=str(STAGING_ROOT))),
    LegacyVariant("verified against the public-good root", "bad bundle", "promise (SET) does not verify",
                  trust=Trust(identities=(WILLIAM,), trusted_root=str(PUBLIC_GOOD_ROOT))),
    LegacyVariant("no keyless identity trusted", "identity not allowed", "trustedIdentities",
                  trust=Trust(trusted_root=str(STAGING_ROOT))),
]


@pytest.mark.parametrize("variant", LEGACY_VARIANTS, ids=[v.name for v in LEGACY_VARIANTS])
def test_sigstore_python_legacy_signature(variant: LegacyVariant) -> None:
    annotations = _legacy_annotations()
    variant.change(annotations)
    payload = variant.payload((PYTHON / "offline-rekor.txt").read_bytes())
    [verdict] = verify_image(_image(EMPTY_IMAGE, _legacy(annotations, payload)), variant.trust, "signature")
    assert not verdict.ok and verdict.reason == variant.reason, verdict.describe()
    assert variant.detail in verdict.detail, verdict.describe()


# -- end to end: a real registry, scanned ---------------------------------------------------------------------


def test_scan_verifies_cosign_bundle_referrer_and_keyless_legacy_signature(tmp_path: Path) -> None:
    """cosign's bundle stored as cosign stores it (a referrer of the exact image it is about, in the referrers
    tag fallback on docker-registry 2.8) is read by the scan and verified with the settings' trusted root,
    written relative to the settings file; the same bundle attached to another release is over another digest.
    A second settings file trusts a local Sigstore instance, whose keyless legacy signature (`.sig`) counts."""
    manifest, config = _empty_image()
    sigstore = LocalSigstore()
    workflow = "https://github.com/acme/models/.github/workflows/release.yml@refs/tags/v1.1.0"
    with LocalRegistry() as reg, httpx.Client() as client:
        empty = push_raw_image(reg.url, "models/empty", "v1.0.0", manifest, DOCKER_MANIFEST, [config], client=client)
        assert empty == EMPTY_IMAGE
        other = push_image(reg.url, "models/empty", ["v1.1.0"], content_seed="another release", client=client)
        bundle = (COSIGN / "oci-attestation.sigstore.json").read_bytes()
        for subject, media_type in ((empty, DOCKER_MANIFEST), (other, "application/vnd.oci.image.manifest.v1+json")):
            push_bundle(reg.url, "models/empty", subject, bundle, predicate_type=ATTESTATION_PREDICATE,
                        subject_media_type=media_type, client=client)
        sign_image_keyless(reg.url, "models/empty", other, sigstore,
                           sigstore.issue(workflow, "https://token.actions.githubusercontent.com"), client=client)

        public = tmp_path / "public-good"
        public.mkdir()
        shutil.copy(PUBLIC_GOOD_ROOT, public / "trusted_root.json")
        (public / "settings.json").write_text(json.dumps({
            "provenanceReleases": ["*"], "allowedBuilders": ["https://ci.example/builder"],
            "trustedIdentities": [{"issuer": CODY.issuer, "subjectPattern": CODY.subject_pattern}],
            "sigstoreTrustedRoot": "trusted_root.json"}))
        local = tmp_path / "local"
        local.mkdir()
        (local / "root.json").write_text(json.dumps(sigstore.trusted_root()))
        (local / "settings.yaml").write_text(
            "signedReleases: ['*:v1.1.0']\nsigstoreTrustedRoot: root.json\ntrustedIdentities:\n"
            "  - {issuer: 'https://token.actions.githubusercontent.com', "
            "subjectPattern: 'https://github\\.com/acme/models/.*'}\n")
        reports = {name: run_scan(ScanOptions(registries=(reg.url,), settings=load_settings(path))).report
                   for name, path in (("public", public / "settings.json"), ("local", local / "settings.yaml"))}

    for report in reports.values():
        assert report.complete
        assert not any(f.rule_id == "version-tag-required" for f in report.findings)
    provenance = {f.resource.rsplit("@", 1)[-1]: f for f in reports["public"].findings
                  if f.rule_id == "release-provenance"}
    # Verified, from cody@soyland.com, but a custom predicate rather than SLSA provenance.
    assert "no SLSA provenance among them" in provenance[empty].message
    assert any("signed by identity cody@soyland.com" in a for a in provenance[empty].evidence["attestations"])
    assert "signature over another digest" in provenance[other].message
    assert not any(f.rule_id == "release-signed" for f in reports["local"].findings)
