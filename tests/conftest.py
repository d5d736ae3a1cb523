"""Fixtures every test folder may use."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from audit.offline_check.analyzer import PolicyPackClient

PACK_DIR = Path(__file__).resolve().parents[1] / "policy-pack"

# Property tests draw the same examples on every run, so a verdict never depends on the draw; a bug they find
# is kept as an @example. HYPOTHESIS_PROFILE=explore draws fresh examples each run.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


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
