"""A version tag agrees with the version the image declares itself, where it declares one."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..model import Image, Subject
from ..releases import METADATA_TAG, listed_by_artifact_registry, released
from ..rule import Inputs, Rule, Stage, declare

VERSION_KEY = "org.opencontainers.image.version"


def _same(tag: str, declared: str) -> bool:
    """A leading v is a spelling, not a difference: v1.2.0 and 1.2.0 name one version."""
    return tag.removeprefix("v").removeprefix("V") == declared.strip().removeprefix("v").removeprefix("V")


def _declared(image: Image) -> list[tuple[str, str]]:
    """(where, version) for each version the image declares."""
    metadata = image.metadata
    if metadata is None:
        return []
    found = [(f"its config's label {VERSION_KEY}", metadata.labels.get(VERSION_KEY, "")),
             (f"its manifest's annotation {VERSION_KEY}", metadata.annotations.get(VERSION_KEY, ""))]
    if metadata.model is not None:
        found.append((f"the {metadata.model.packaging} model's version", metadata.model.version or ""))
    return [(where, version) for where, version in found if version.strip()]


@declare(
    id="version-label-matches",
    title="Version tags agree with the image's own version",
    severity="low",
    stages=(Stage.LIVE,),
    subjects=(Subject.IMAGE,),
    settings=("versionTagPattern",),
    tags=("images", "versioning", METADATA_TAG),
    description="Every version tag of an image agrees with each version the image declares itself, where it "
    "declares one: its config's org.opencontainers.image.version label, its manifest's annotation of that name, "
    "and the version of the model it packages (a CNCF ModelPack config's descriptor.version, a KitOps ModelKit's "
    "model or package version). A leading v is not a difference (v1.2.0 is 1.2.0). The nightly audit reads these "
    "for version-tagged images through the registry's Docker endpoint; the Artifact Registry API does not serve "
    "them, so a release read only through it is could-not-judge.",
    remediation=(
        "Set the version once in the build and derive both from it: docker build --label "
        "org.opencontainers.image.version=$VERSION and tag the image $VERSION (or the model's version in its "
        "Kitfile or ModelPack config).",
        "If the tag is the one that is wrong, push the digest under the right version tag; version tags should "
        "not be moved (version-tag-moved).",
    ),
    url="https://github.com/opencontainers/image-spec/blob/main/annotations.md",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    for image, tags in released(inputs.state, inputs.settings, ("*",)):
        resource = str(image.ref)
        metadata = image.metadata
        if metadata is None:
            if listed_by_artifact_registry(image):
                yield rule.undetermined(resource, f"{image.package} {', '.join(tags)}: only the Artifact Registry "
                                        "API was scanned, which does not serve an image's config or annotations; "
                                        "scan the registry's Docker endpoint too (--registry "
                                        "https://LOCATION-docker.pkg.dev) to read them")
            continue  # otherwise not asked for: the scan reads it for released versions when this rule runs
        if metadata.problem:
            yield rule.undetermined(resource, f"{image.package} {', '.join(tags)}: its config and annotations were "
                                    f"not read ({metadata.problem})")
            continue
        declared = _declared(image)
        for tag in tags:
            disagree = [(where, version) for where, version in declared if not _same(tag, version)]
            if not disagree:
                continue
            says = "; ".join(f"{where} says {version}" for where, version in disagree)
            yield rule.finding(resource, f"{image.package}:{tag} ({image.digest}): {says}", {
                "repository": image.repository.name, "package": image.package, "digest": image.digest,
                "tag": tag, "declared": {where: version for where, version in declared}})
