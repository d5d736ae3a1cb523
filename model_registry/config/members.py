"""Who may read, write and administer the registry: the IAM principals per access level, for either backend."""

from __future__ import annotations

from dataclasses import dataclass

from registry_guard.catalogue.principals import parse_member, validate_member

from model_registry.config.errors import ConfigError
from model_registry.config.reader import ConfigReader

MEMBER_KEYS = ("readers", "writers", "admins")


@dataclass(frozen=True)
class Members:
    """Principals per access level. Each grant is non-authoritative, so grants made elsewhere survive."""

    readers: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()


def read_members(reader: ConfigReader) -> Members:
    return Members(**{key: _principals(reader, key) for key in MEMBER_KEYS})


def _principals(reader: ConfigReader, key: str) -> tuple[str, ...]:
    members = reader.string_list(key, (), "IAM principals (e.g. group:ml-team@example.com)")
    seen: dict[str, int] = {}
    result: list[str] = []
    for index, member in enumerate(members):
        problem = validate_member(member)
        if problem is not None:
            # A public member's reason already names it; otherwise show the value the user typed.
            shown = "" if parse_member(member).is_public else f"{member!r} is not a principal: "
            raise ConfigError(f"{reader.key(key)}[{index}]: {shown}{problem}")
        # IAM compares identities case-insensitively; grant the canonical spelling so a later
        # audit compares like with like and two spellings cannot become two resources.
        canonical = parse_member(member).canonical
        if canonical in seen:
            raise ConfigError(
                f"{reader.key(key)}[{index}]: {member} is already listed as {key}[{seen[canonical]}]"
            )
        seen[canonical] = index
        result.append(canonical)
    return tuple(result)
