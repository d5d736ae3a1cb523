"""Artifact Registry's dockerImages listing shows cosign's signatures, attestations and SBOMs as images of their
own (tagged `sha256-<hex>.sig|.att|.sbom`) and OCI 1.1 referrers as untagged artifacts that do not say which
image they refer to: the source attaches the first by their tag and the second by their attachment
(ListAttachments, asked only in a repository whose listing holds referrers), and counts neither as an image.
Their content is not served by this API: a release rule judging an Artifact Registry scan alone says it could
not judge a signed release, and why, never "no signature"; a referrer it cannot tie to its image leaves every
release of its package undetermined."""

from __future__ import annotations

import warnings

from ar_fixtures import LOCATION, PROJECT, repo_name
from registry_guard.catalogue.findings import Finding, Undetermined
from registry_guard.catalogue.judge import judge
from registry_guard.catalogue.rule import Inputs, Stage
from registry_guard.catalogue.settings import Settings

from audit.sources.artifact_registry import scan_artifact_registry
from localdev.artifact_registry import ArtifactRegistryFake, FakeAttachment, FakeDockerImage, FakeEstate, fake_digest

warnings.filterwarnings("ignore", category=FutureWarning, module="google.*")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
SPDX = "application/spdx+json"
SIGN_PREDICATE = {"dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1",
                  "dev.sigstore.bundle.content": "dsse-envelope"}
SETTINGS = Settings.from_mapping({"signedReleases": ["*"]})


def _tag(digest: str, suffix: str) -> str:
    return digest.replace(":", "-", 1) + suffix


def _bundle(package: str, subject: str, seed: str, annotations: dict[str, str] | None = None) -> FakeAttachment:
    digest = fake_digest(seed)
    return FakeAttachment(digest.replace(":", "-"), package, subject, digest, BUNDLE,
                          annotations=SIGN_PREDICATE if annotations is None else annotations,
                          files=(fake_digest(seed + "/layer"),))


def _release_verdicts(state: object) -> dict[str, Finding | Undetermined]:
    judged = judge(Inputs(state, SETTINGS), Stage.LIVE, ["release-signed"])  # type: ignore[arg-type]
    return {item.resource.rsplit("@", 1)[-1]: item for item in (*judged.findings, *judged.undetermined)}


def test_cosign_tags_and_referrers_are_attached_not_listed() -> None:
    released, unsigned, referred = fake_digest("released"), fake_digest("unsigned"), fake_digest("referred")
    estate = FakeEstate()
    repo = estate.add_repository(PROJECT, LOCATION, "models")
    plain = estate.add_repository(PROJECT, LOCATION, "plain")
    estate.add_images(repo, [
        FakeDockerImage("llm", released, ("v1.0.0", "latest")),
        FakeDockerImage("llm", unsigned, ("v0.9.0",)),
        FakeDockerImage("models/vision", referred, ("v2.0.0",)),
        FakeDockerImage("llm", fake_digest("sig"), (_tag(released, ".sig"),), media_type=OCI_MANIFEST),
        FakeDockerImage("llm", fake_digest("att"), (_tag(released, ".att"),), media_type=OCI_MANIFEST),
        FakeDockerImage("llm", fake_digest("sbom"), (_tag(released, ".sbom"),), media_type=OCI_MANIFEST),
        FakeDockerImage("llm", fake_digest("index"), (_tag(released, ""),),
                        media_type="application/vnd.oci.image.index.v1+json"),
        # a signature of another package's digest stays with that package
        FakeDockerImage("other", fake_digest("sig-other"), (_tag(unsigned, ".sig"),), media_type=OCI_MANIFEST),
    ])
    # Referrers, as cosign --new-bundle-format and oras attach push them: listed untagged, tied by attachment.
    estate.add_attachment(repo, _bundle("models/vision", referred, "bundle"))
    estate.add_attachment(repo, FakeAttachment("sbom-1", "models/vision", referred, fake_digest("spdx"), SPDX))
    estate.add_images(plain, [FakeDockerImage("llm", fake_digest("plain"), ("v1.0.0",))])
    with ArtifactRegistryFake(estate) as fake:
        result = scan_artifact_registry(PROJECT, LOCATION, endpoint=fake.endpoint, retry_deadline=5.0)
        paths = [r.path for r in fake.requests]
    assert result.errors == ()
    assert paths.count(f"/v1/{repo_name('models')}/dockerImages") == 1  # still one listing per repository
    assert paths.count(f"/v1/{repo_name('models')}/attachments") == 1  # referrers there: one list of attachments
    assert f"/v1/{repo_name('plain')}/attachments" not in paths  # no referrers: nothing more is asked
    images = {image.digest: image for image in result.state.images}
    assert set(images) == {released, unsigned, referred, fake_digest("plain")}
    assert result.image_count == 4
    attached = {(a.kind, a.stored_as, a.digest, a.read) for a in images[released].attached}
    assert attached == {("signature", "cosign-tag", fake_digest("sig"), False),
                        ("attestation", "cosign-tag", fake_digest("att"), False),
                        ("sbom", "cosign-tag", fake_digest("sbom"), False)}
    assert {(a.kind, a.stored_as, a.digest) for a in images[referred].attached} == {
        ("signature", "referrer", fake_digest("bundle")), ("sbom", "referrer", fake_digest("spdx"))}
    assert images[unsigned].attached == ()
    assert judge(Inputs(result.state), Stage.LIVE, ["version-tag-required"]).findings == ()

    verdicts = _release_verdicts(result.state)
    for signed in (released, referred):  # signed, but the signature's content is not served by this API
        assert isinstance(verdicts[signed], Undetermined)
        assert "only the Artifact Registry API was scanned" in verdicts[signed].reason
    assert isinstance(verdicts[unsigned], Finding) and "no signature" in verdicts[unsigned].message


def test_attachments_page_like_every_list_call() -> None:
    estate = FakeEstate()
    repo = estate.add_repository(PROJECT, LOCATION, "models")
    subjects = [fake_digest(f"release {i}") for i in range(7)]
    estate.add_images(repo, [FakeDockerImage("llm", d, (f"v1.0.{i}",)) for i, d in enumerate(subjects)])
    for i, subject in enumerate(subjects):
        estate.add_attachment(repo, _bundle("llm", subject, f"bundle {i}"))
    with ArtifactRegistryFake(estate) as fake:
        result = scan_artifact_registry(PROJECT, LOCATION, endpoint=fake.endpoint, retry_deadline=5.0, page_size=3)
        pages = [r for r in fake.requests if r.path.endswith("/attachments")]
    assert result.errors == ()
    assert len(pages) == 3 and all(r.param("pageSize") == "3" for r in pages)
    assert all(len(image.attached) == 1 for image in result.state.images)


def test_referrers_that_cannot_be_tied_leave_releases_undetermined() -> None:
    """ListAttachments denied in one repository, and a referrer without an attachment in another: each is a read
    error, and the releases of the packages they are in are undetermined (none is reported unsigned)."""
    estate = FakeEstate()
    denied = estate.add_repository(PROJECT, LOCATION, "denied")
    orphan = estate.add_repository(PROJECT, LOCATION, "orphan")
    signed, other = fake_digest("signed"), fake_digest("other package")
    estate.add_images(denied, [FakeDockerImage("llm", signed, ("v1.0.0",)),
                               FakeDockerImage("vision", other, ("v3.0.0",))])
    estate.add_attachment(denied, _bundle("llm", signed, "denied bundle"))
    estate.deny(denied, {"artifactregistry.attachments.list"})
    lonely = fake_digest("lonely")
    estate.add_images(orphan, [FakeDockerImage("llm", lonely, ("v1.0.0",)),
                               FakeDockerImage("llm", fake_digest("bundle without attachment"), (),
                                               media_type=OCI_MANIFEST, artifact_type=BUNDLE)])
    with ArtifactRegistryFake(estate) as fake:
        result = scan_artifact_registry(PROJECT, LOCATION, endpoint=fake.endpoint, retry_deadline=5.0)
    errors = {e.target: e.message for e in result.errors}
    assert "attachments not listed" in errors[repo_name("denied")] and "(403)" in errors[repo_name("denied")]
    assert "is not among the repository's attachments" in errors[repo_name("orphan")]
    verdicts = _release_verdicts(result.state)
    for digest in (signed, lonely):
        assert isinstance(verdicts[digest], Undetermined)
        assert "could not be tied to the image it refers to" in verdicts[digest].reason
    # another package of the denied repository holds no referrer: it is unsigned, and said so
    assert isinstance(verdicts[other], Finding) and "no signature" in verdicts[other].message
