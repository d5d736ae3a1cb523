"""What the repository rules share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from .findings import Undetermined
from .model import RegistryState, Repository, is_unknown
from .rule import Rule

# Repository modes nobody pushes to: remote repositories cache an upstream, virtual ones aggregate others.
NOT_PUSHED_TO: Final = frozenset({"REMOTE_REPOSITORY", "VIRTUAL_REPOSITORY"})


def docker_repositories(state: RegistryState, rule: Rule) -> Iterator[Repository | Undetermined]:
    """The Docker repositories of `state`, and "could not judge" for those whose format is not known yet."""
    for repo in state.repositories:
        if is_unknown(repo.format):
            yield rule.undetermined(str(repo.ref), "the repository format is not known yet")
        elif repo.format.upper() == "DOCKER":
            yield repo
