"""What released images say about themselves, read from a real registry (Debian's docker-registry): OCI image
labels and annotations, CNCF ModelPack and KitOps ModelKit configs; unreleased images are not read; a config
that cannot be read is a read error and leaves version-label-matches could-not-judge; end to end, the scan
finds a version tag that disagrees with the image's own version."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from oci_stubs import StubServer, json_reply, registry_proxy
from registry_guard.catalogue.model import Image

from audit.scan import ScanOptions, run_scan
from audit.sources.oci import scan_oci_registry
from localdev.model_artifacts import push_labelled_image, push_modelkit, push_modelpack
from localdev.oci_push import push_image
from localdev.oci_registry import LocalRegistry

VERSION = "org.opencontainers.image.version"
LABELS = {VERSION: "1.4.0", "org.opencontainers.image.created": "2026-11-20T10:00:00Z",
          "org.opencontainers.image.source": "https://github.com/acme/models", "org.opencontainers.image.revision":
          "4f2a9c1", "maintainer": "ml@acme.example"}
# The ModelPack spec's own example config (docs/config.md), cut to what the inventory keeps.
DESCRIPTOR = {"createdAt": "2025-01-01T00:00:00Z", "authors": ["xyz@xyz.com"], "vendor": "XYZ Corp.",
              "family": "xyz3", "name": "xyz-3-8B-Instruct", "version": "3.1", "licenses": ["Apache-2.0"]}
MODEL_CONFIG = {"architecture": "transformer", "format": "pt", "paramSize": "8b", "precision": "float16"}
KITFILE = {"manifestVersion": "1.0.0",
           "package": {"name": "sentiment", "version": "2.0.0", "license": "MIT", "authors": ["ML team"]},
           "model": {"name": "sentiment-bert", "path": "./model", "framework": "pytorch", "format": "safetensors",
                     "version": "2.0.0", "license": "Apache-2.0"}}


@dataclass(frozen=True)
class Estate:
    url: str
    agrees: str  # llm v1.4.0, labelled 1.4.0 (and annotated)
    disagrees: str  # llm v1.5.0, labelled 1.4.0
    modelpack: str  # xyz v1.0.0, a ModelPack of model version 3.1
    modelkit: str  # sentiment v2.0.0, a KitOps ModelKit of version 2.0.0
    unreleased: str  # llm latest


@pytest.fixture(scope="module")
def estate() -> Iterator[Estate]:
    with LocalRegistry() as reg, httpx.Client() as client:
        yield Estate(
            reg.url,
            push_labelled_image(reg.url, "models/llm", "v1.4.0", labels=LABELS, annotations={VERSION: "v1.4.0"},
                                client=client),
            push_labelled_image(reg.url, "models/llm", "v1.5.0", labels=LABELS, seed="rebuilt", client=client),
            push_modelpack(reg.url, "models/xyz", "v1.0.0", descriptor=DESCRIPTOR, config=MODEL_CONFIG,
                           weights=[b"w" * 700, b"w" * 300], client=client),
            push_modelkit(reg.url, "models/sentiment", "v2.0.0", kitfile=KITFILE, model=b"m" * 512, client=client),
            push_image(reg.url, "models/llm", ["latest"], content_seed="nightly", client=client),
        )


def _images(url: str) -> dict[str, Image]:
    inventory = scan_oci_registry(url)
    assert inventory.complete, inventory.errors
    return {image.digest or "": image for image in inventory.images}


def test_labels_annotations_and_models_are_read_for_released_versions(estate: Estate) -> None:
    images = _images(estate.url)
    agrees = images[estate.agrees].metadata
    assert agrees is not None and agrees.problem is None and agrees.model is None
    assert agrees.labels == {k: v for k, v in LABELS.items() if k != "maintainer"}  # the OCI keys only
    assert agrees.annotations == {VERSION: "v1.4.0"}
    assert agrees.declared("revision") == "4f2a9c1"

    pack = images[estate.modelpack].metadata
    assert pack is not None and pack.model is not None
    assert (pack.model.packaging, pack.model.name, pack.model.version, pack.model.format, pack.model.license,
            pack.model.parameters, pack.model.size_bytes) == (
        "ModelPack", "xyz-3-8B-Instruct", "3.1", "pt", "Apache-2.0", "8b", 1000)  # the weight layers only

    kit = images[estate.modelkit].metadata
    assert kit is not None and kit.model is not None
    assert (kit.model.packaging, kit.model.name, kit.model.version, kit.model.framework, kit.model.format,
            kit.model.license, kit.model.size_bytes) == (
        "KitOps ModelKit", "sentiment-bert", "2.0.0", "pytorch", "safetensors", "Apache-2.0", 512)

    assert images[estate.unreleased].metadata is None  # latest is not a release: nothing read


def test_a_config_that_cannot_be_read_is_said(estate: Estate) -> None:
    config = None

    def hook(method: str, path: str) -> tuple[int, dict[str, str], bytes] | None:
        return json_reply({"errors": [{"code": "UNKNOWN"}]}, 500) if config and path.endswith(config) else None

    real = httpx.get(f"{estate.url}/v2/models/xyz/manifests/v1.0.0",
                     headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}).json()
    config = real["config"]["digest"]
    stub: StubServer = registry_proxy(estate.url, hook).start()
    try:
        inventory = scan_oci_registry(stub.url, repositories=["models/xyz"], max_retries=0)
    finally:
        stub.stop()
    assert not inventory.complete
    assert any("metadata not read" in e.message and "HTTP 500" in e.message for e in inventory.errors)
    [image] = inventory.images
    assert image.metadata is not None and image.metadata.problem and "HTTP 500" in image.metadata.problem


def test_scan_finds_a_tag_that_disagrees_with_the_image(estate: Estate) -> None:
    report = run_scan(ScanOptions(registries=(estate.url,))).report
    assert report.complete
    found = {f.resource.rsplit("@", 1)[-1]: f.message for f in report.findings if f.rule_id == "version-label-matches"}
    assert set(found) == {estate.disagrees, estate.modelpack}
    assert f"its config's label {VERSION} says 1.4.0" in found[estate.disagrees]
    assert "the ModelPack model's version says 3.1" in found[estate.modelpack]
    inventory = {image["digest"]: image for repo in report.inventory["repositories"] for image in repo["images"]}
    assert inventory[estate.modelkit]["metadata"]["model"]["framework"] == "pytorch"
    assert inventory[estate.agrees]["metadata"]["labels"][VERSION] == "1.4.0"
    assert "metadata" not in inventory[estate.unreleased]
