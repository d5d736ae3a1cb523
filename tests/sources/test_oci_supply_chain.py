"""Signatures, attestations and SBOMs in a real registry (Debian's docker-registry 2.8, which has no referrers
API): recognised in cosign's tag scheme and as OCI 1.1 referrers, attached to the image they describe, read
for released versions only, and never judged or counted as images."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from oci_stubs import StubServer, json_reply, registry_proxy
from registry_guard.catalogue.judge import judge
from registry_guard.catalogue.model import Image, RegistryState
from registry_guard.catalogue.rule import Inputs, Stage

from audit.sources.oci import scan_oci_registry
from audit.sources.oci.scanner import ReleaseReads
from localdev.cosign import (
    SIGSTORE_BUNDLE,
    attach_sbom,
    attest_image,
    new_key,
    push_referrer,
    sign_image,
    slsa_statement,
)
from localdev.oci_push import push_image
from localdev.oci_registry import LocalRegistry

REPO = "models/llm"


@dataclass(frozen=True)
class Estate:
    url: str
    released: str  # v1.0.0: signed, attested, an SBOM, and a bundle referrer
    unreleased: str  # latest only: signed
    bare: str  # v0.9.0: nothing attached


@pytest.fixture(scope="module")
def estate() -> Iterator[Estate]:
    with LocalRegistry() as reg, httpx.Client() as client:
        key = new_key()
        released = push_image(reg.url, REPO, ["v1.0.0"], content_seed="released", client=client)
        unreleased = push_image(reg.url, REPO, ["latest"], content_seed="unreleased", client=client)
        bare = push_image(reg.url, REPO, ["v0.9.0"], content_seed="bare", client=client)
        sign_image(reg.url, REPO, released, key, client=client)
        attest_image(reg.url, REPO, released, key, slsa_statement(REPO, released, "https://ci.example/builder"),
                     client=client)
        attach_sbom(reg.url, REPO, released, b'{"spdxVersion":"SPDX-2.3"}', client=client)
        push_referrer(reg.url, REPO, released, SIGSTORE_BUNDLE, b'{"mediaType":"' + SIGSTORE_BUNDLE.encode() + b'"}',
                      annotations={"dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1"},
                      client=client)
        sign_image(reg.url, REPO, unreleased, key, client=client)
        yield Estate(reg.url, released, unreleased, bare)


def _by_digest(images: tuple[Image, ...]) -> dict[str, Image]:
    return {image.digest or "": image for image in images}


def test_artifacts_are_attached_not_listed_as_images(estate: Estate) -> None:
    inventory = scan_oci_registry(estate.url)
    assert inventory.complete, inventory.errors
    images = _by_digest(inventory.images)
    assert set(images) == {estate.released, estate.unreleased, estate.bare}
    assert inventory.tags == 3  # v1.0.0, latest, v0.9.0: the .sig/.att/.sbom and sha256-<hex> tags are not counted
    assert all(not tag.startswith("sha256-") for image in inventory.images for tag in image.tags)
    released = images[estate.released]
    kinds = sorted((a.kind, a.stored_as) for a in released.attached)
    assert kinds == [("attestation", "cosign-tag"), ("sbom", "cosign-tag"), ("signature", "cosign-tag"),
                     ("signature", "referrer")]
    assert images[estate.bare].attached == ()


def test_released_versions_have_their_artifacts_read(estate: Estate) -> None:
    released = _by_digest(scan_oci_registry(estate.url).images)[estate.released]
    by_kind = {(a.kind, a.stored_as): a for a in released.attached}
    signature = by_kind[("signature", "cosign-tag")]
    assert signature.read and signature.problem is None and signature.digest
    payload = json.loads(signature.layers[0].content or b"")
    assert payload["critical"]["image"]["docker-manifest-digest"] == estate.released
    assert signature.layers[0].annotations["dev.cosignproject.cosign/signature"]
    envelope = json.loads(by_kind[("attestation", "cosign-tag")].layers[0].content or b"")
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    referrer = by_kind[("signature", "referrer")]
    assert referrer.read and referrer.artifact_type == SIGSTORE_BUNDLE and referrer.layers[0].content
    assert not by_kind[("sbom", "cosign-tag")].read  # an SBOM's presence is reported, its content not fetched


def test_unreleased_images_artifacts_are_noted_not_read(estate: Estate) -> None:
    unreleased = _by_digest(scan_oci_registry(estate.url).images)[estate.unreleased]
    assert [(a.kind, a.read, a.layers) for a in unreleased.attached] == [("signature", False, ())]


def test_requests_stay_bounded_by_released_versions(estate: Estate) -> None:
    counted = registry_proxy(estate.url).start()
    try:
        inventory = scan_oci_registry(counted.url, repositories=[REPO], reads=ReleaseReads(metadata=False))
    finally:
        counted.stop()
    assert inventory.complete, inventory.errors
    # One HEAD per image tag, none for the seven supply-chain tags.
    assert counted.requests("HEAD") == 3
    # Referrers API asked once for the whole scan (404: docker-registry 2.8 has none), then the tag fallback.
    assert counted.requests("GET", "/referrers/") == 1
    # Released v1.0.0: .sig and .att manifests + a layer each, the fallback index, the referrer + its layer;
    # v0.9.0 has no fallback tag, so nothing is asked for it.
    assert counted.requests("GET", "/manifests/") == 4
    assert counted.requests("GET", "/blobs/") == 3


def test_metadata_costs_one_request_per_released_version(estate: Estate) -> None:
    """Version tags are read with a GET instead of a HEAD (the manifest comes with it), and each released
    image's config once; `latest` is still a HEAD. Nothing is read about released images that is not asked."""
    counts = {}
    for name, reads in (("both", ReleaseReads()), ("metadata", ReleaseReads(signatures=False)),
                        ("neither", ReleaseReads(signatures=False, metadata=False))):
        counted = registry_proxy(estate.url).start()
        try:
            inventory = scan_oci_registry(counted.url, repositories=[REPO], reads=reads)
        finally:
            counted.stop()
        assert inventory.complete, inventory.errors
        counts[name] = (counted.requests("HEAD"), counted.requests("GET", "/manifests/"),
                        counted.requests("GET", "/blobs/"), counted.requests("GET", "/referrers/"))
        released = _by_digest(inventory.images)[estate.released]
        assert (released.metadata is not None) is reads.metadata
        assert all(not a.read for a in released.attached) is not reads.signatures
    assert counts["both"] == (1, 2 + 4, 2 + 3, 1)
    assert counts["metadata"] == (1, 2, 2, 0)
    assert counts["neither"] == (3, 0, 0, 0)


def test_a_registry_with_the_referrers_api_is_asked_per_released_version(estate: Estate) -> None:
    real = httpx.Client(base_url=estate.url)
    fallback = real.get(f"/v2/{REPO}/manifests/{estate.released.replace(':', '-')}",
                        headers={"Accept": "application/vnd.oci.image.index.v1+json"}).json()

    def hook(method: str, path: str) -> tuple[int, dict[str, str], bytes] | None:
        if "/referrers/" not in path:
            return None
        digest = path.rsplit("/", 1)[-1]
        body = fallback if digest == estate.released else {"schemaVersion": 2, "manifests": []}
        status, _headers, content = json_reply({**body, "mediaType": "application/vnd.oci.image.index.v1+json"})
        return status, {"Content-Type": "application/vnd.oci.image.index.v1+json"}, content

    stub: StubServer = registry_proxy(estate.url, hook).start()
    try:
        inventory = scan_oci_registry(stub.url, repositories=[REPO])
    finally:
        stub.stop()
        real.close()
    assert inventory.complete, inventory.errors
    assert stub.requests("GET", "/referrers/") == 2  # v1.0.0 and v0.9.0, never `latest`
    released = _by_digest(inventory.images)[estate.released]
    assert ("signature", "referrer") in {(a.kind, a.stored_as) for a in released.attached}


def test_supply_chain_tags_raise_no_version_tag_finding(estate: Estate) -> None:
    state = RegistryState(images=scan_oci_registry(estate.url).images)
    judged = judge(Inputs(state), Stage.LIVE, ["version-tag-required"])
    assert [f.resource.rsplit("@", 1)[-1] for f in judged.findings] == [estate.unreleased]


def test_an_unreadable_signature_is_a_read_error_not_a_pass(estate: Estate) -> None:
    def hook(method: str, path: str) -> tuple[int, dict[str, str], bytes] | None:
        if method == "GET" and path.endswith(".sig"):
            return json_reply({"errors": [{"code": "DENIED"}]}, 403)
        return None

    stub: StubServer = registry_proxy(estate.url, hook).start()
    try:
        inventory = scan_oci_registry(stub.url, repositories=[REPO])
    finally:
        stub.stop()
    assert not inventory.complete
    assert any(".sig" in e.target and "HTTP 403 DENIED" in e.message for e in inventory.errors)
    released = _by_digest(inventory.images)[estate.released]
    signature = next(a for a in released.attached if a.stored_as == "cosign-tag" and a.kind == "signature")
    assert not signature.read and signature.problem and "HTTP 403" in signature.problem
