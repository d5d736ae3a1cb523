"""Reading Pulumi resource properties one by one, with preview-time unknowns kept as `UNKNOWN`.

A property can be unknown at preview in two ways: pulumi_policy's proxy raises `UnknownValueError` on
access, or a plain dict (a stack export, a test) carries the engine's sentinel string. Both become
`model.UNKNOWN` for that field alone, so a rule that needs it becomes "could not judge" and every other
rule still judges the resource. The reader remembers every unknown path, so a verdict can say exactly
what was missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

from ..catalogue.model import UNKNOWN, UNKNOWN_NAME, Unknown, is_unknown

SENTINELS: Final = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


class PropertyReader:
    """Reads properties one by one, remembering which paths were unknown."""

    def __init__(self) -> None:
        self.unknown_paths: list[str] = []

    def read(self, container: Any, key: str | int, path: str) -> Any:
        """The value at `key`, None when absent, UNKNOWN when not known yet."""
        try:
            value = container[key]
        except UnknownValueError:
            self.unknown_paths.append(path)
            return UNKNOWN
        except (KeyError, IndexError, TypeError):
            return None
        if isinstance(value, str) and value in SENTINELS:
            self.unknown_paths.append(path)
            return UNKNOWN
        return value

    def items(self, container: Any, key: str, path: str) -> list[Any] | Unknown | None:
        """A list property element by element: an unknown element stays UNKNOWN in place."""
        value = self.read(container, key, path)
        if value is None or is_unknown(value):
            return value
        if isinstance(value, str) or not isinstance(value, Sequence):
            return [value]
        return [self.read(value, i, f"{path}[{i}]") for i in range(len(value))]

    def text(self, container: Any, key: str, path: str) -> str | Unknown | None:
        value = self.read(container, key, path)
        if value is None or is_unknown(value):
            return value
        return show(value)

    def mapping(self, container: Any, key: str, path: str) -> Mapping[str, Any] | Unknown | None:
        """An object property; None when absent or not an object."""
        value = self.read(container, key, path)
        if value is None or is_unknown(value):
            return value
        return value if isinstance(value, Mapping) else None


def show(value: object, default: str = "(provider default)") -> str:
    """A property value as a name in a model or a message."""
    if value is None:
        return default
    if is_unknown(value):
        return UNKNOWN_NAME
    if not isinstance(value, str | int | float):
        # A list or object where a name belongs (the provider would reject it): never a proxy's repr.
        return f"(not a name: {type(value).__name__.strip('_').removesuffix('Proxy').lower() or 'value'})"
    return str(value)
