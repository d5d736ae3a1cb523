"""Policy configuration: each policy's config schema, from the settings its rule declares, and back to
`Settings`.

Why per policy: `--policy-pack-config` is keyed by policy name, a rule id (`{"<rule id>": {"allowedAdmins": [...]}}`),
so each policy declares only the settings its rule reads; the engine validates the user's file against these
schemas and fills in the defaults before `Configure`.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyConfigSchema

from ..catalogue.rule import Rule
from ..catalogue.settings import SETTINGS_SCHEMA, Settings
from ..catalogue.waivers import WAIVERS_SETTING, Waiver, waivers_of


def _property_schema(key: str) -> dict[str, Any]:
    schema = copy.deepcopy(SETTINGS_SCHEMA[key])
    if key == "versionTagPattern":
        schema["format"] = "regex"  # so a validator with format checking rejects "(" before the pack runs
    return schema


def config_schema(rule: Rule) -> PolicyConfigSchema:
    """The settings the rule reads, and `waivers`: every policy takes accepted risks for its rule."""
    properties = {key: _property_schema(key) for key in rule.settings}
    properties["waivers"] = copy.deepcopy(WAIVERS_SETTING)
    return PolicyConfigSchema(properties=properties)


def _plain(value: Any) -> Any:
    """Config arrives as protobuf-derived dicts/lists; Settings wants tuples of str."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(v) for v in value]
    return value


def settings_from_config(config: Mapping[str, Any] | None) -> Settings:
    """`Settings` from `args.get_config()`; missing keys take the catalogue's defaults.

    Raises `SettingsError` for a value the schema could not catch (an invalid regular expression when the
    engine skipped format checks).
    """
    plain = _plain(config or {})
    # The same few configs arrive with every resource: parse each once.
    return _cached_settings(json.dumps(plain, sort_keys=True, default=str))


@functools.lru_cache(maxsize=64)
def _cached_settings(plain_json: str) -> Settings:
    return Settings.from_mapping(json.loads(plain_json))


def waivers_from_config(rule: Rule, config: Mapping[str, Any] | None) -> tuple[Waiver, ...]:
    """The rule's waivers from its policy config. Raises `SettingsError` for a malformed entry."""
    plain = _plain((config or {}).get("waivers"))
    return _cached_waivers(rule.id, json.dumps(plain, sort_keys=True, default=str))


@functools.lru_cache(maxsize=64)
def _cached_waivers(rule_id: str, plain_json: str) -> tuple[Waiver, ...]:
    return waivers_of(rule_id, json.loads(plain_json))
