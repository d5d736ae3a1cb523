"""`--config FILE`: the policy pack's settings, read so both tools judge alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry_guard.catalogue.rule import all_rules
from registry_guard.catalogue.settings import SETTINGS_SCHEMA, Settings, SettingsError

from .input_files import load_document


def _shown(key: object) -> str:
    """A key as written, or its repr if printing it would break the one-line message."""
    return str(key) if str(key).isprintable() else repr(key)


def load_settings(path: Path) -> Settings:
    """Accept the flat settings (`{"allowedAdmins": [...]}`) or a `--policy-pack-config` file where the
    settings sit under policy names (`{"<rule id>": {"allowedAdmins": [...]}}`)."""
    raw = load_document(path, "json" if path.suffix == ".json" else "yaml", SettingsError)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if key in SETTINGS_SCHEMA:
            flat[key] = value
        elif key in all_rules() or key == "all":
            if isinstance(value, dict):
                for inner, inner_value in value.items():
                    if inner == "enforcementLevel":
                        continue
                    if inner not in SETTINGS_SCHEMA:
                        raise SettingsError(f"{path}: {key}.{_shown(inner)}: unknown setting; allowed: "
                                            + ", ".join(SETTINGS_SCHEMA))
                    if inner in flat and flat[inner] != inner_value:
                        raise SettingsError(f"{path}: {key}.{inner} disagrees with another policy's {inner}")
                    flat[inner] = inner_value
        else:
            raise SettingsError(f"{path}: {_shown(key)}: unknown setting; allowed: " + ", ".join(SETTINGS_SCHEMA))
    try:
        return Settings.from_mapping(flat)
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None
