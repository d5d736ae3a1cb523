"""version-label-matches: live cases, with the metadata the OCI source reads for released images (OCI image
labels and annotations, CNCF ModelPack and KitOps ModelKit configs) and what the Artifact Registry API gives."""

from __future__ import annotations

import dataclasses
from typing import Any

from registry_guard.catalogue.model import ImageMetadata, ModelArtifact, RegistryState, ResourceRef
from registry_guard.catalogue.rule import Inputs
from registry_guard.catalogue.settings import Settings

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, CannotJudge, Case, Finds, Live
from .live_state import image

VERSION = "org.opencontainers.image.version"


def live(name: str, expect: Any, *, tags: tuple[str, ...] = ("v1.2.0",), metadata: ImageMetadata | None,
         registry: str | None = None, **settings: Any) -> Live:
    """A released image of an Artifact Registry repository, or of the OCI registry `registry`."""
    released = dataclasses.replace(image(tags), metadata=metadata)
    if registry is not None:
        released = dataclasses.replace(released, repository=ResourceRef("repository", registry))
    return Live(name, Inputs(RegistryState(images=(released,)), Settings.from_mapping(settings)), expect)


def labelled(version: str) -> ImageMetadata:
    return ImageMetadata(labels={VERSION: version, "org.opencontainers.image.revision": "4f2a9c1"})


def modelpack(version: str) -> ImageMetadata:
    return ImageMetadata(model=ModelArtifact("ModelPack", name="xyz-3-8B-Instruct", version=version, format="pt",
                                             parameters="8b", license="Apache-2.0"))


CASES: list[Case] = [
    live("the label agrees (a leading v is a spelling)", PASSES, metadata=labelled("1.2.0")),
    live("the label agrees, both with a v", PASSES, metadata=labelled("v1.2.0")),
    live("the label disagrees", Finds("llm:v1.2.0 (sha256:"), metadata=labelled("1.1.0")),
    live("the label disagrees, said where", Finds(f"its config's label {VERSION} says 1.1.0"),
         metadata=labelled("1.1.0")),
    live("the manifest annotation disagrees", Finds(f"its manifest's annotation {VERSION} says 2.0.0"),
         metadata=ImageMetadata(annotations={VERSION: "2.0.0"})),
    live("label and annotation agree", PASSES,
         metadata=ImageMetadata(labels={VERSION: "1.2.0"}, annotations={VERSION: "v1.2.0"})),
    live("a ModelPack model of another version", Finds("the ModelPack model's version says 3.1"),
         metadata=modelpack("3.1")),
    live("a ModelPack model of this version", PASSES, metadata=modelpack("1.2.0")),
    live("a KitOps ModelKit of this version", PASSES,
         metadata=ImageMetadata(model=ModelArtifact("KitOps ModelKit", name="llm", version="1.2.0",
                                                    framework="pytorch", format="safetensors"))),
    live("a KitOps ModelKit of another version", Finds("the KitOps ModelKit model's version says 0.9.0"),
         metadata=ImageMetadata(model=ModelArtifact("KitOps ModelKit", name="llm", version="0.9.0"))),
    live("no version declared", PASSES, metadata=ImageMetadata(labels={"org.opencontainers.image.revision": "x"})),
    live("one of two version tags disagrees", Finds("llm:v1.2.1 ("), tags=("v1.2.0", "v1.2.1"),
         metadata=labelled("1.2.0")),
    live("not a release: latest only", PASSES, tags=("latest",), metadata=labelled("1.1.0")),
    live("a version tag by the team's pattern", Finds("says 1.1.0"), tags=("release-7",),
         metadata=labelled("1.1.0"), versionTagPattern="^release-[0-9]+$"),
    live("metadata not read", CannotJudge("its config and annotations were not read (not read: GET manifest"),
         metadata=ImageMetadata(problem="not read: GET manifest sha256:1234…: HTTP 500")),
    live("read through the Artifact Registry API alone", CannotJudge("only the Artifact Registry API was scanned"),
         metadata=None),
    live("read through the Docker endpoint without asking for metadata", PASSES, metadata=None,
         registry="registry.example"),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
