"""Artifact Registry's dockerImages listing shows cosign's signatures, attestations and SBOMs as images of their
own (tagged `sha256-<hex>.sig|.att|.sbom`) and OCI 1.1 referrers as untagged artifacts: the source attaches the
first to the image they describe and counts neither as an image, in the same one listing per repository."""

from __future__ import annotations

import warnings

from ar_fixtures import LOCATION, PROJECT, repo_name
from registry_guard.catalogue.judge import judge
from registry_guard.catalogue.rule import Inputs, Stage

from audit.sources.artifact_registry import scan_artifact_registry
from localdev.artifact_registry import ArtifactRegistryFake, FakeDockerImage, FakeEstate, fake_digest

warnings.filterwarnings("ignore", category=FutureWarning, module="google.*")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"


def _tag(digest: str, suffix: str) -> str:
    return digest.replace(":", "-", 1) + suffix


def test_cosign_tags_are_attached_not_listed() -> None:
    released, unsigned = fake_digest("released"), fake_digest("unsigned")
    estate = FakeEstate()
    repo = estate.add_repository(PROJECT, LOCATION, "models")
    estate.add_images(repo, [
        FakeDockerImage("llm", released, ("v1.0.0", "latest")),
        FakeDockerImage("llm", unsigned, ("v0.9.0",)),
        FakeDockerImage("llm", fake_digest("sig"), (_tag(released, ".sig"),), media_type=OCI_MANIFEST),
        FakeDockerImage("llm", fake_digest("att"), (_tag(released, ".att"),), media_type=OCI_MANIFEST),
        FakeDockerImage("llm", fake_digest("sbom"), (_tag(released, ".sbom"),), media_type=OCI_MANIFEST),
        FakeDockerImage("llm", fake_digest("index"), (_tag(released, ""),),
                        media_type="application/vnd.oci.image.index.v1+json"),
        FakeDockerImage("llm", fake_digest("bundle"), (), media_type=OCI_MANIFEST, artifact_type=BUNDLE),
        # a signature of another package's digest stays with that package
        FakeDockerImage("other", fake_digest("sig-other"), (_tag(unsigned, ".sig"),), media_type=OCI_MANIFEST),
    ])
    with ArtifactRegistryFake(estate) as fake:
        result = scan_artifact_registry(PROJECT, LOCATION, endpoint=fake.endpoint, retry_deadline=5.0)
        listings = [r for r in fake.requests if r.path == f"/v1/{repo_name('models')}/dockerImages"]
    assert result.errors == ()
    assert len(listings) == 1  # still one listing per repository: nothing more is asked
    images = {image.digest: image for image in result.state.images}
    assert set(images) == {released, unsigned}
    assert result.image_count == 2
    attached = {(a.kind, a.stored_as, a.digest, a.read) for a in images[released].attached}
    assert attached == {("signature", "cosign-tag", fake_digest("sig"), False),
                        ("attestation", "cosign-tag", fake_digest("att"), False),
                        ("sbom", "cosign-tag", fake_digest("sbom"), False)}
    assert images[unsigned].attached == ()
    judged = judge(Inputs(result.state), Stage.LIVE, ["version-tag-required"])
    assert judged.findings == ()
