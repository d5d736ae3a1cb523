"""The offline check's inputs (stack config, pack config) and its report, in the audit's report model."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from registry_guard.catalogue.findings import Undetermined

from ..input_files import load_document
from ..report import Report, build_report
from .check import CheckResult, program_file, project_name


def _cli_value(value: Any) -> str:
    """Config values as the Pulumi CLI hands them to a program: strings as they are, the rest as JSON. A YAML
    date (`2030-01-01`) is the text it was written as, since Pulumi's YAML reader keeps it a string; binary
    (`!!binary`) and keys that are not text have no config form (TypeError)."""
    def plain(item: Any) -> Any:
        if isinstance(item, date | datetime):
            return str(item)
        if isinstance(item, dict):
            if not all(isinstance(k, str) for k in item):
                raise TypeError("a key inside it is not text")
            return {k: plain(v) for k, v in item.items()}
        if isinstance(item, list):
            return [plain(v) for v in item]
        if item is None or isinstance(item, str | int | float | bool):
            return item
        raise TypeError(f"{type(item).__name__} values have no config form")

    value = plain(value)
    return value if isinstance(value, str) else json.dumps(value, allow_nan=False)


def load_stack_config(path: Path | None, values: Sequence[str], program: Path) -> dict[str, str]:
    project = project_name(program_file(program))
    config: dict[str, str] = {}
    if path is not None:
        document = load_document(path, "yaml", ValueError)
        raw = document.get("config") if isinstance(document, dict) else None
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a `config:` map as in Pulumi.<stack>.yaml")
        for key, value in raw.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: config keys must be text, found a {type(key).__name__} key")
            if isinstance(value, dict) and "secure" in value:
                raise ValueError(f"{path}: {key} is an encrypted secret; pass it with --config-value")
            try:
                config[key if ":" in key else f"{project}:{key}"] = _cli_value(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{path}: {key}: not a config value ({exc})") from None
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--config-value: expected KEY=VALUE, got {item!r}")
        config[key if ":" in key else f"{project}:{key}"] = value
    return config


def load_pack_config(path: Path) -> dict[str, Any]:
    document = load_document(path, "json", ValueError)
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a JSON object of policy names")
    return document


def check_report(result: CheckResult, program: Path, stack: str, stack_config: Path | None = None) -> Report:
    """The check as a report. With the stack config file, a finding whose message names a value set in it
    carries that line (`stack_config` evidence: file, key, line and column range) for SARIF and reviewers."""
    judged = [f for f in result.findings if not f.evidence.get("undetermined")]
    if stack_config is not None:
        from .config_lines import locate

        where = locate(judged, stack_config, program, project_name(program_file(program)))
        judged = [dataclasses.replace(f, evidence={**f.evidence, "stack_config": where[i]}) if i in where else f
                  for i, f in enumerate(judged)]
    undetermined = [Undetermined(f.rule_id, f.resource, f.message) for f in result.findings
                    if f.evidence.get("undetermined")]
    types = Counter(urn.split("::")[-2].split("$")[-1] for urn in {f.resource for f in result.findings} if "::" in urn)
    return build_report(
        generated_at=datetime.now(UTC),
        target={"program": str(program), "stack": stack, "policy_pack": result.policy_pack,
                **({"stack_config": str(stack_config)} if stack_config is not None else {}),
                "resources_checked": result.resources_checked,
                "pack_start_seconds": result.pack_start_seconds},
        errors=(),
        findings=judged,
        undetermined=undetermined,
        inventory={"repositories": [], "images": 0, "tags": 0, "resources": result.resources_checked,
                   "resource_types_with_findings": dict(types)},
        rules_evaluated=list(result.policies_evaluated),
        kind="check",
    )
