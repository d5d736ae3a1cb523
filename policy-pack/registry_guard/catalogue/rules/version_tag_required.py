"""Every tagged image carries a version tag."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..frameworks import CCC_OLDER_VERSIONS_EXPLOITED
from ..model import Subject
from ..rule import Inputs, Rule, Stage, declare


@declare(
    id="version-tag-required",
    title="Every image carries a version tag",
    severity="high",
    enforcement="mandatory",
    stages=(Stage.DEPLOY, Stage.LIVE),
    subjects=(Subject.IMAGE,),
    settings=("versionTagPattern",),
    tags=("images", "versioning"),
    description="Every image has at least one tag that matches the version pattern (versionTagPattern, default "
    "semantic versioning with optional v). An image tagged only latest, dev or nothing violates it.",
    remediation=(
        "Tag the image with its model version (e.g. v1.4.0) before pushing; keep latest only as an extra tag.",
        "Delete or re-tag images that carry no version.",
    ),
    frameworks=(CCC_OLDER_VERSIONS_EXPLOITED,),
    url="https://cloud.google.com/artifact-registry/docs/docker/names",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    settings = inputs.settings
    # Untagged digests are not judged: multi-arch children and superseded pushes are untagged by nature,
    # and cleanup policies (not this rule) decide their fate.
    for image in inputs.state.images:
        if not image.tags or any(settings.is_version_tag(tag) for tag in image.tags):
            continue
        yield rule.finding(
            str(image.ref),
            f"{image.package} ({image.digest or 'to be built'}) is tagged only {', '.join(sorted(image.tags))}: "
            f"no tag matches the version pattern",
            {"repository": image.repository.name, "package": image.package, "digest": image.digest,
             "tags": sorted(image.tags), "versionTagPattern": settings.version_tag_pattern},
        )
