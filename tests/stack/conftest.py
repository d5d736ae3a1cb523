"""Fixtures for the stack tests: run the real `__main__.py` under mocks through the same runner the
offline policy check uses, so these tests exercise exactly what a policy would see."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from stack_helpers import MAIN_PROGRAM, FailStack, RunStack, with_project

from audit.sources.stack_program import StackProgramError, StackRun, run_stack_program


@pytest.fixture
def run_stack() -> RunStack:
    def run(config: Mapping[str, str]) -> StackRun:
        return run_stack_program(MAIN_PROGRAM, with_project(config))

    return run


@pytest.fixture
def stack_error() -> FailStack:
    """Run the stack expecting it to fail; return the one-line message the user would see."""

    def fail(config: Mapping[str, str]) -> str:
        with pytest.raises(StackProgramError) as excinfo:
            run_stack_program(MAIN_PROGRAM, with_project(config))
        message = str(excinfo.value)
        assert "\n" not in message
        return message

    return fail
