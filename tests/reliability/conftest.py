"""Fixtures for the reliability tests: real local components behind fault-injecting proxies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reliability_support import seed_small

from localdev.fault_proxy import FaultProxy
from localdev.oci_registry import LocalRegistry


@pytest.fixture(scope="module")
def small_registry() -> Iterator[tuple[LocalRegistry, dict[tuple[str, str], str]]]:
    """A real docker-registry with the small estate, shared by a module's tests (they only read it)."""
    with LocalRegistry() as registry:
        yield registry, seed_small(registry.url)


@pytest.fixture
def registry_proxy(small_registry: tuple[LocalRegistry, dict[tuple[str, str], str]]) -> Iterator[FaultProxy]:
    """A fresh fault proxy (empty plan, empty record) in front of the small registry."""
    with FaultProxy(small_registry[0].url) as proxy:
        yield proxy
