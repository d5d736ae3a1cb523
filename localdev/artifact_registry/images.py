"""Docker images in the fake's estate: one image, and any number of them computed from their index.

The estate keeps each repository's images as Sequences it never copies, and the server renders
only the page asked for: `SyntheticImages` computes image i on demand, so a repository of 100k
images costs no memory, and `ChainedImages` lets several such sequences make one repository.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import overload


@dataclass(frozen=True, slots=True)
class FakeDockerImage:
    """One DockerImage (a manifest digest and its tags) inside a repository."""

    package: str  # e.g. "models/llm"; URL-escaped in the resource name like the real API
    digest: str  # "sha256:<64 hex>"
    tags: tuple[str, ...] = ()
    image_size_bytes: int = 0
    upload_time: str = "2024-01-01T00:00:00Z"
    media_type: str = "application/vnd.docker.distribution.manifest.v2+json"
    build_time: str | None = None
    update_time: str | None = None
    artifact_type: str | None = None  # an OCI artifact's artifactType (signatures, SBOMs, ...)


def fake_digest(seed: str) -> str:
    """A well-formed, distinct manifest digest for `seed`."""
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


class SyntheticImages(Sequence[FakeDockerImage]):
    """`count` images computed from their index, so 100k images cost no memory.

    Image i belongs to package `f"{package_prefix}{i % packages}"`, has tag `v{i}` (plus
    `latest` on the last one), a distinct digest, and was uploaded `i` seconds after `base_epoch`.
    """

    def __init__(
        self,
        count: int,
        *,
        packages: int = 10,
        package_prefix: str = "models/model-",
        seed: str = "img",
        base_epoch: int = 1_700_000_000,
    ) -> None:
        if count < 0 or packages < 1:
            raise ValueError("count must be >= 0 and packages >= 1")
        self._count = count
        self._packages = packages
        self._prefix = package_prefix
        self._seed = seed
        self._base = base_epoch

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> FakeDockerImage: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[FakeDockerImage]: ...
    def __getitem__(self, index: int | slice) -> FakeDockerImage | Sequence[FakeDockerImage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        tags = (f"v{index}", "latest") if index == self._count - 1 else (f"v{index}",)
        uploaded = datetime.fromtimestamp(self._base + index, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return FakeDockerImage(
            package=f"{self._prefix}{index % self._packages}",
            digest=fake_digest(f"{self._seed}:{index}"),
            tags=tags,
            image_size_bytes=1_000_000 + index,
            upload_time=uploaded,
        )


class ChainedImages(Sequence[FakeDockerImage]):
    """Several image sequences seen as one, without copying them."""

    def __init__(self) -> None:
        self._parts: list[Sequence[FakeDockerImage]] = []
        self._ends: list[int] = []

    def append(self, part: Sequence[FakeDockerImage]) -> None:
        self._parts.append(part)
        self._ends.append((self._ends[-1] if self._ends else 0) + len(part))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    @overload
    def __getitem__(self, index: int) -> FakeDockerImage: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[FakeDockerImage]: ...
    def __getitem__(self, index: int | slice) -> FakeDockerImage | Sequence[FakeDockerImage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        part = bisect_right(self._ends, index)
        if part >= len(self._parts):
            raise IndexError(index)
        start = self._ends[part - 1] if part else 0
        return self._parts[part][index - start]
