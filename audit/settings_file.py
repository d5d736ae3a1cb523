"""`--config FILE`: the policy pack's settings, read so both tools judge alike."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from registry_guard.catalogue.rule import all_rules
from registry_guard.catalogue.settings import ENFORCEMENT_LEVELS, SETTINGS_SCHEMA, Settings, SettingsError
from registry_guard.catalogue.waivers import WAIVERS_SETTING, waivers_of

from .input_files import load_document
from .report import Waiver

_NAME_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


def _shown(key: object) -> str:
    """A key as written when it looks like a name (a typo of a setting); anything else is not repeated, since
    the file may be anything (a secret included)."""
    return str(key) if isinstance(key, str) and _NAME_LIKE.match(key) else "a key that is no setting name"


def _schema_problem(value: Any, schema: dict[str, Any]) -> str | None:
    """What the pack's own Draft 7 validation of `schema` says about `value`, in words that never quote the
    value (the file may be anything)."""
    import jsonschema

    errors = sorted(jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).iter_errors(value),
                    key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    error = errors[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    rule, wanted = str(error.validator), error.validator_value
    if rule == "type":
        said = f"must be of type {wanted}"
    elif rule == "pattern":
        said = f"must match {wanted}"
    elif rule == "minLength":
        said = "must not be empty" if wanted == 1 else f"must be at least {wanted} characters"
    elif rule == "enum":
        said = f"must be one of {', '.join(map(str, wanted))}"
    else:
        said = f"fails the pack's schema ({rule})"
    return f"{where or '(value)'} {said}"


def load_settings(path: Path) -> Settings:
    """Accept the flat settings (`{"allowedAdmins": [...]}`) or a `--policy-pack-config` file where the
    settings sit under policy names (`{"<rule id>": {"allowedAdmins": [...]}}`). Whatever the pack would
    refuse is refused here too: each setting is checked against the schema the pack validates it with, a
    policy's settings must be ones that policy reads, and enforcement levels must be levels."""
    raw = load_document(path, "json" if path.suffix == ".json" else "yaml", SettingsError)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
    flat: dict[str, Any] = {}
    levels = {"enum": list(ENFORCEMENT_LEVELS)}
    for key, value in raw.items():
        if key in SETTINGS_SCHEMA:
            flat[key] = value
        elif key in all_rules() or key == "all":
            if isinstance(value, str) or not isinstance(value, dict):
                problem = _schema_problem(value, levels if isinstance(value, str) else {"type": ["string", "object"]})
                if problem:
                    raise SettingsError(f"{path}: {key}: {problem.removeprefix('(value) ')}")
                continue
            reads = SETTINGS_SCHEMA if key == "all" else all_rules()[key].settings
            for inner, inner_value in value.items():
                if inner == "waivers" and key != "all":
                    problem = _schema_problem(inner_value, WAIVERS_SETTING)
                    if problem:
                        raise SettingsError(f"{path}: {key}.waivers{problem.removeprefix('(value)')}")
                    continue  # accepted risks: config_waivers reads them
                if inner == "enforcementLevel":
                    problem = _schema_problem(inner_value, levels)
                    if problem:
                        raise SettingsError(f"{path}: {key}.enforcementLevel {problem.removeprefix('(value) ')}")
                    continue
                if inner not in reads:
                    allowed = ", ".join(reads) or "only enforcementLevel"
                    raise SettingsError(f"{path}: {key}.{_shown(inner)}: not a setting of this policy; allowed: "
                                        + allowed)
                if inner in flat and flat[inner] != inner_value:
                    raise SettingsError(f"{path}: {key}.{inner} disagrees with another policy's {inner}")
                flat[inner] = inner_value
        else:
            raise SettingsError(f"{path}: {_shown(key)}: unknown setting; allowed: " + ", ".join(SETTINGS_SCHEMA))
    problem = _schema_problem(flat, {"type": "object", "properties": SETTINGS_SCHEMA})
    if problem:
        raise SettingsError(f"{path}: {problem}")
    try:
        settings = Settings.from_mapping(flat)
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    if settings.sigstore_trusted_root:
        settings = dataclasses.replace(settings, sigstore_trusted_root=_trusted_root(
            path, settings.sigstore_trusted_root))
    return settings


def _trusted_root(settings_path: Path, written: str) -> str:
    """sigstoreTrustedRoot as a path the scan can open: relative to the settings file it is written in (as a
    user reads it), and read here, so a root that is missing or is no trusted root is bad input (exit 2) rather
    than a signature that cannot be judged at night."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import TrustedRoot

    root = Path(written).expanduser()
    if not root.is_absolute():
        root = settings_path.parent / root
    if not root.is_file():
        raise SettingsError(f"{settings_path}: sigstoreTrustedRoot: {root} is not a file")
    try:
        TrustedRoot.from_file(str(root))
    except (OSError, ValueError, SigstoreError) as exc:
        raise SettingsError(f"{settings_path}: sigstoreTrustedRoot: {root} is not a Sigstore trusted root "
                            f"({type(exc).__name__})") from None
    return str(root)


def config_waivers(path: Path) -> tuple[Waiver, ...]:
    """The accepted risks a `--policy-pack-config` file gives its policies (`{"<rule id>": {"waivers": [...]}}`):
    the pack honours them at deploy time, so the audit does too. `load_settings` has checked their shape."""
    raw = load_document(path, "json" if path.suffix == ".json" else "yaml", SettingsError)
    found: list[Waiver] = []
    for key, value in (raw or {}).items() if isinstance(raw, dict) else ():
        if key in all_rules() and isinstance(value, dict) and "waivers" in value:
            try:
                accepted = waivers_of(key, value["waivers"])
            except SettingsError as exc:
                raise SettingsError(f"{path}: {key}.{exc}") from None
            found += [Waiver(w.rule_id, w.resource, w.justification, w.owner, w.expires.isoformat())
                      for w in accepted]
    return tuple(found)
