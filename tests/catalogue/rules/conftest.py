"""Each rule's test module lists its cases in `CASES`; `test_case(case, rule_id)` runs every one of them,
named by the case's name."""

from __future__ import annotations

import pytest


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        cases = metafunc.module.CASES
        metafunc.parametrize("case", cases, ids=[case.name for case in cases])


@pytest.fixture()
def rule_id(request: pytest.FixtureRequest) -> str:
    """The rule a test module is about, from its name: test_no_public_access -> no-public-access."""
    return str(request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-"))
