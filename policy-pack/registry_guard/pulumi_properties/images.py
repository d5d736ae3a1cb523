"""Container images a stack builds and pushes (pulumi-docker `Image`, pulumi-docker-build `Image`)."""

from __future__ import annotations

import re
from typing import Any, Final

from ..catalogue.model import Image, RegistryState, ResourceRef, Subject, Unjudged, is_unknown
from .reader import PropertyReader
from .types import DOCKER_IMAGE

_AR_HOST: Final = re.compile(r"^(?P<location>[a-z0-9-]+)-docker\.pkg\.dev$")
_GCR_HOST: Final = re.compile(r"^([a-z]+\.)?gcr\.io$")


def is_registry_host(host: str) -> bool:
    """An Artifact Registry Docker host or a Container Registry host."""
    return bool(_AR_HOST.match(host) or _GCR_HOST.match(host))


def split_image_reference(reference: str) -> tuple[str, str, str | None] | None:
    """ "host/path:tag" -> (host, path, tag); a digest reference has no tag. None when no registry host."""
    name, _, digest = reference.partition("@")
    slash = name.find("/")
    if slash < 0:
        return None
    host, rest = name[:slash], name[slash + 1 :]
    if "." not in host and ":" not in host and host != "localhost":
        return None
    last = rest.rsplit("/", 1)[-1]
    tag: str | None = None
    if ":" in last:
        rest, tag = rest.rsplit(":", 1)
    elif not digest:
        tag = "latest"  # what docker push does with an untagged name
    return host.lower(), rest, tag


def image_repository(host: str, path: str) -> tuple[ResourceRef, str] | None:
    """(repository, package) for an image path on Artifact Registry or Container Registry."""
    ar = _AR_HOST.match(host)
    segments = path.split("/")
    if ar and len(segments) >= 3:
        repo = f"projects/{segments[0]}/locations/{ar.group('location')}/repositories/{segments[1]}"
        return ResourceRef("repository", repo), "/".join(segments[2:])
    if _GCR_HOST.match(host) and len(segments) >= 2:
        return ResourceRef("repository", f"{host}/{segments[0]}"), "/".join(segments[1:])
    return None


def _references(resource_type: str, props: Any, urn: str, reader: PropertyReader) -> tuple[list[str], list[str]]:
    """The image references the resource pushes, and why any could not be told yet. Nothing for an image
    built only locally."""
    references: list[str] = []
    unknown: list[str] = []
    if resource_type == DOCKER_IMAGE:
        if reader.read(props, "skipPush", ".skipPush") is True:
            return [], []
        image_name = reader.text(props, "imageName", ".imageName")
        if is_unknown(image_name):
            unknown.append("imageName is not known yet (preview)")
        elif image_name:
            references.append(image_name)
        return references, unknown
    push = reader.read(props, "push", ".push")
    if push is False or push is None:
        return [], []  # docker-build pushes only when push is true
    tags = reader.items(props, "tags", ".tags")
    if is_unknown(tags):
        unknown.append("tags are not known yet (preview)")
    for index, tag in enumerate(tags if isinstance(tags, list) else []):
        if is_unknown(tag):
            unknown.append(f"tags[{index}] is not known yet (preview)")
        elif isinstance(tag, str):
            references.append(tag)
    if unknown:
        # The unknown tag may be the version tag: judging the known ones alone would be a false verdict.
        references = []
    if is_unknown(push):
        unknown.append("push is not known yet (preview)")
    return references, unknown


def adapt_image(resource_type: str, props: Any, urn: str, reader: PropertyReader) -> RegistryState:
    references, unknown = _references(resource_type, props, urn, reader)
    grouped: dict[tuple[ResourceRef, str], list[str]] = {}
    for reference in references:
        parsed = split_image_reference(reference)
        if parsed is None or not is_registry_host(parsed[0]):
            continue
        host, path, tag = parsed
        located = image_repository(host, path)
        if located is None:
            continue
        tags_of = grouped.setdefault(located, [])
        if tag is not None:
            tags_of.append(tag)
    return RegistryState(
        images=tuple(
            Image(repository=repo, package=package, digest=None, tags=tuple(tags), source=urn)
            for (repo, package), tags in grouped.items()
        ),
        unjudged=tuple(Unjudged(Subject.IMAGE, urn, reason) for reason in unknown),
    )
