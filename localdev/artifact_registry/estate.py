"""What the fake serves: repositories (kept as the API's JSON), their Docker images, IAM policies,
and the calls to answer with 403.

Safe to change while the server runs (a lock guards it), e.g. to add a repository mid-test. The
read methods hand out copies, except `images`, whose sequences are never copied whole.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Unpack

from .attachments import FakeAttachment
from .images import ChainedImages, FakeDockerImage
from .wire import JSON, REPOSITORY_NAME, RepositorySettings, iam_policy_json, repository_json


class FakeEstate:
    """The in-memory projects/locations/repositories, images and IAM policies the fake serves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._repositories: dict[str, JSON] = {}
        self._images: dict[str, ChainedImages] = {}
        self._policies: dict[str, JSON] = {}
        self._denied: dict[str, frozenset[str] | None] = {}
        self._attachments: dict[str, list[FakeAttachment]] = {}

    # -- building ----------------------------------------------------------------------------

    def add_repository(
        self, project: str, location: str, repository_id: str, **settings: Unpack[RepositorySettings]
    ) -> str:
        """Add a Repository (see `repository_json` for the settings) and return its full name."""
        return self.add_repository_json(repository_json(project, location, repository_id, **settings))

    def add_repository_json(self, body: Mapping[str, Any]) -> str:
        """Add a Repository given as raw API JSON (for shapes `add_repository` does not build)."""
        name = str(body["name"])
        if not re.fullmatch(REPOSITORY_NAME, name):
            raise ValueError(f"not a repository name: {name}")
        with self._lock:
            self._repositories[name] = json.loads(json.dumps(body))  # own a deep copy
            self._images.setdefault(name, ChainedImages())
        return name

    def add_images(self, repository: str, images: Sequence[FakeDockerImage]) -> None:
        """Append images (any Sequence, e.g. `SyntheticImages(100_000)`, is kept by reference)."""
        with self._lock:
            if repository not in self._repositories:
                raise KeyError(repository)
            self._images[repository].append(images)

    def add_attachment(self, repository: str, attachment: FakeAttachment) -> None:
        """Store an OCI artifact that refers to an image, as the registry does when one is pushed: an attachment
        (ListAttachments) and an untagged image with its artifactType (ListDockerImages)."""
        with self._lock:
            if repository not in self._repositories:
                raise KeyError(repository)
            self._attachments.setdefault(repository, []).append(attachment)
            self._images[repository].append([attachment.as_image()])

    def attachments(self, repository: str) -> list[FakeAttachment]:
        """The repository's attachments, in the order they were added; KeyError if there is no such repository."""
        with self._lock:
            if repository not in self._repositories:
                raise KeyError(repository)
            return list(self._attachments.get(repository, ()))

    def set_iam_policy(
        self,
        repository: str,
        bindings: Iterable[JSON],
        *,
        version: int | None = None,
        etag: bytes | None = None,
    ) -> None:
        policy = iam_policy_json(bindings, version=version, etag=etag)
        with self._lock:
            if repository not in self._repositories:
                raise KeyError(repository)
            self._policies[repository] = policy

    def deny(self, resource: str, permissions: Iterable[str] | None = None) -> None:
        """Answer 403 for `resource` (and what is under it): for all calls, or only for the given
        IAM permissions, e.g. {"artifactregistry.repositories.getIamPolicy"}."""
        with self._lock:
            self._denied[resource] = frozenset(permissions) if permissions is not None else None

    def remove_repository(self, repository: str) -> None:
        with self._lock:
            self._repositories.pop(repository, None)
            self._images.pop(repository, None)
            self._policies.pop(repository, None)
            self._attachments.pop(repository, None)

    # -- reading -----------------------------------------------------------------------------

    def repository_names(self, parent: str) -> list[str]:
        """The names of the repositories in `parent` ("projects/P/locations/L"), sorted."""
        prefix = parent + "/repositories/"
        with self._lock:
            return sorted(name for name in self._repositories if name.startswith(prefix))

    def locations_used(self, project: str) -> set[str]:
        """The locations where `project` ("projects/P") has repositories."""
        with self._lock:
            return {name.split("/")[3] for name in self._repositories if name.startswith(project + "/")}

    def repository(self, name: str) -> JSON:
        """A copy of the Repository's JSON; KeyError if there is no such repository."""
        with self._lock:
            body: JSON = json.loads(json.dumps(self._repositories[name]))
        return body

    def images(self, repository: str) -> Sequence[FakeDockerImage]:
        """The repository's images, not copied; KeyError if there is no such repository."""
        with self._lock:
            if repository not in self._repositories:
                raise KeyError(repository)
            return self._images[repository]

    def iam_policy(self, repository: str) -> JSON | None:
        """A copy of the repository's IAM policy, None if none was set; KeyError if there is no
        such repository."""
        with self._lock:
            if repository not in self._repositories:
                raise KeyError(repository)
            policy = self._policies.get(repository)
            copied: JSON | None = json.loads(json.dumps(policy)) if policy is not None else None
        return copied

    def is_denied(self, resource: str, permission: str) -> bool:
        """Whether `permission` on `resource` is to be answered with 403 (see `deny`)."""
        with self._lock:
            return any(
                (resource == denied or resource.startswith(denied + "/")) and (perms is None or permission in perms)
                for denied, perms in self._denied.items()
            )

    def image_count(self, repository: str) -> int:
        with self._lock:
            return len(self._images.get(repository, ()))
