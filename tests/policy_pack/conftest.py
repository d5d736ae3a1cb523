"""Shared fixtures for the policy pack tests.

Why `policy-pack/` goes on sys.path: the pack is a folder `pulumi policy publish` ships as is, not an
installed package; the engine runs it with that folder as the program directory, so its imports
(`registry_policies`, `rule_catalogue`) resolve from there. The tests import it the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACK_DIR = Path(__file__).resolve().parents[2] / "policy-pack"
if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))

from audit.offline_check.analyzer import PolicyPackClient  # noqa: E402


@pytest.fixture(scope="session")
def pack() -> Iterator[PolicyPackClient]:
    """The real pack process, started as the engine starts it; ~0.3-2 s, so once per session.
    Tests that Configure it must restore the defaults (see `configured`)."""
    with PolicyPackClient(PACK_DIR) as client:
        client.configure(None)
        yield client


@pytest.fixture()
def configured(pack: PolicyPackClient) -> Iterator[PolicyPackClient]:
    """The session pack, reset to the default configuration after the test."""
    yield pack
    pack.configure(None)
