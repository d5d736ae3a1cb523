"""Fixtures for the report format tests (see format_fixtures)."""

from __future__ import annotations

import pytest
from format_fixtures import demo_report, empty_report, incomplete_report, sample_report

from audit.report import Report


@pytest.fixture
def report() -> Report:
    return sample_report()


@pytest.fixture
def incomplete() -> Report:
    return incomplete_report()


@pytest.fixture
def empty() -> Report:
    return empty_report()


@pytest.fixture(scope="session")
def demo() -> Report:
    loaded = demo_report()
    if loaded is None:
        pytest.skip("no demo report: run `./dev demo` to create demo-output/registry-guard-scan.json")
    return loaded
