"""Fixtures for the source tests: a real docker-registry, the real GCS emulator, stub servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from oci_stubs import Seeded, StubServer

from localdev.gcs_emulator import GcsEmulator
from localdev.oci_push import push_image
from localdev.oci_registry import LocalRegistry


@pytest.fixture(scope="session")
def registry() -> Iterator[LocalRegistry]:
    """One real docker-registry for the session (tests use distinct repository names)."""
    with LocalRegistry() as reg:
        yield reg


@pytest.fixture
def seeded_registry() -> Iterator[Seeded]:
    """A fresh registry with a small model estate: multi-tag images, a `latest`-only image,
    and several repositories (in-memory storage starts in milliseconds)."""
    with LocalRegistry() as reg, httpx.Client() as client:
        expected: dict[tuple[str, str], tuple[str, ...]] = {}
        layout: dict[str, list[tuple[str, ...]]] = {
            "models/llm": [("v1", "stable"), ("v2",), ("v3", "latest", "candidate")],
            "models/vision": [("latest",)],
            "team/a/embedder": [("2024-01-01",), ("2024-02-01", "prod")],
            "team/b/ranker": [("r1",), ("r2",), ("r3",), ("r4",)],
        }
        for repo, images in layout.items():
            for i, tags in enumerate(images):
                digest = push_image(reg.url, repo, list(tags), content_seed=f"{repo}#{i}", client=client,
                                    layer_seed="shared", mount_from="models/llm")
                expected[(repo, digest)] = tuple(sorted(tags))
        yield Seeded(reg.url, reg.host, expected)


@pytest.fixture
def stub_server() -> Iterator[Callable[[StubServer], StubServer]]:
    """Start StubServers and stop them at the end of the test."""
    started: list[StubServer] = []

    def start(server: StubServer) -> StubServer:
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def gcs() -> Iterator[GcsEmulator]:
    """The real gcp-storage-emulator in-process; STORAGE_EMULATOR_HOST is restored afterwards."""
    with GcsEmulator(project="test-project") as emu:
        yield emu
