"""Reading the raw Pulumi config namespace: where the values come from, and typed access to them.

Values arrive as strings the way the Pulumi CLI passes them (JSON for lists and objects); values that are
already decoded (tests, the automation API) are accepted too. Every type error names the fully qualified
key, so the user sees which line of `Pulumi.<stack>.yaml` to fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from model_registry.config.errors import ConfigError


def config_namespace() -> dict[str, Any]:
    """The whole raw config of the running program, all namespaces.

    Why not `pulumi.Config`: it can only answer for keys we already know, and an unknown key (a
    typo such as `reader`) must be refused. The CLI passes config in the PULUMI_CONFIG environment
    variable; the automation API and mocks set it in-process (`set_all_config`), which wins.
    """
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


class ConfigReader:
    """Typed access to the keys under one prefix; every error names the fully qualified key.

    The prefix is a namespace (`model-registry:`) for top-level keys, or a key and a dot
    (`model-registry:audit.`) for the fields of an object value.
    """

    def __init__(self, values: Mapping[str, Any], prefix: str) -> None:
        self.values = values
        self.prefix = prefix

    def key(self, key: str) -> str:
        return self.prefix + key

    def string(self, key: str, default: str) -> str:
        value = self.values.get(key, default)
        if not isinstance(value, str):
            raise ConfigError(f"{self.key(key)}: expected a string, got {value!r}")
        return value

    def optional_string(self, key: str) -> str | None:
        if key not in self.values or self.values[key] in ("", None):
            return None
        return self.string(key, "")

    def json(self, key: str, default: Any, what: str) -> Any:
        """Lists and objects arrive as JSON strings from the CLI (`pulumi config set --path` or a
        YAML list in the stack file both end up that way)."""
        if key not in self.values:
            return default
        value = self.values[key]
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ConfigError(f"{self.key(key)}: expected {what} (JSON), got {value!r}") from None
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.values.get(key, default)
        if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{self.key(key)}: expected a whole number from {low} to {high}, got {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.values.get(key, default)
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(key)}: expected true or false, got {value!r}")
        return value

    def string_list(self, key: str, default: tuple[str, ...], what: str) -> tuple[str, ...]:
        value = self.json(key, list(default), f"a list of {what}")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self.key(key)}: expected a list of {what}, got {value!r}")
        return tuple(value)
