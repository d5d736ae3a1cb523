"""Attachments, as the Artifact Registry v1 API lists them (`projects.locations.repositories.attachments`).

In a Docker repository an attachment is an OCI artifact that refers to an image: what `oras attach` or a
client pushing a manifest with a `subject` (cosign's `--new-bundle-format`) stores. The artifact is listed by
ListDockerImages as an untagged image with its `artifactType`, which does not say which image it refers to;
its attachment does: `target` is the image's version (`…/packages/PKG/versions/sha256:…`, the package
URL-escaped as in every resource name) and `ociVersionName` the artifact's own version. ListAttachments
(`GET /v1/{parent=projects/*/locations/*/repositories/*}/attachments`) pages like every list call (at most
1,000 per page) and filters on `target`, `type` and `attachment_namespace` (AIP-160).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from .images import FakeDockerImage
from .wire import JSON, ApiError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass(frozen=True, slots=True)
class FakeAttachment:
    """One attachment of a repository: the OCI artifact `digest` of `package` that refers to `target_digest`."""

    attachment_id: str
    package: str
    target_digest: str
    digest: str  # the artifact's own manifest digest
    type: str  # the artifact's artifactType
    annotations: Mapping[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()  # its blobs' digests
    namespace: str = ""
    create_time: str = "2024-01-01T00:00:00Z"

    def as_image(self) -> FakeDockerImage:
        """The artifact as ListDockerImages lists it: untagged, with its artifactType."""
        return FakeDockerImage(self.package, self.digest, (), media_type=OCI_MANIFEST, upload_time=self.create_time,
                               artifact_type=self.type)


def _version(repository: str, package: str, digest: str) -> str:
    return f"{repository}/packages/{quote(package, safe='')}/versions/{digest}"


def attachment_json(attachment: FakeAttachment, repository: str) -> JSON:
    """An Attachment as ListAttachments returns it (proto3 JSON: empty fields omitted)."""
    body: JSON = {
        "name": f"{repository}/attachments/{attachment.attachment_id}",
        "target": _version(repository, attachment.package, attachment.target_digest),
        "type": attachment.type,
        "createTime": attachment.create_time,
        "updateTime": attachment.create_time,
        "files": [f"{repository}/files/{quote(digest, safe='')}" for digest in attachment.files],
        "ociVersionName": _version(repository, attachment.package, attachment.digest),
    }
    if attachment.namespace:
        body["attachmentNamespace"] = attachment.namespace
    if attachment.annotations:
        body["annotations"] = dict(attachment.annotations)
    if not attachment.files:
        del body["files"]
    return body


_TERM = re.compile(r'\s*(target|type|attachment_namespace)\s*=\s*"((?:[^"\\]|\\.)*)"\s*')
_FIELDS = {"target": "target", "type": "type", "attachment_namespace": "attachmentNamespace"}


def matches(body: JSON, filter_text: str | None) -> bool:
    """Whether an attachment's JSON passes a filter of `field="value"` terms joined by AND (the fields the
    API filters on); ApiError 400 for anything else, as the API refuses a filter it cannot parse."""
    if not filter_text:
        return True
    for term in re.split(r"\s+AND\s+", filter_text.strip()):
        found = _TERM.fullmatch(term)
        if found is None:
            raise ApiError(400, f"Invalid filter: {filter_text[:200]}")
        key, value = found.group(1), found.group(2).replace('\\"', '"')
        if str(body.get(_FIELDS[key], "")).lower() != value.lower():  # "Filter rules are case insensitive"
            return False
    return True


__all__ = ["FakeAttachment", "attachment_json", "matches"]
