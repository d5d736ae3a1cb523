"""The JSON report: the report's own shape, validated against the shipped schema."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, TextIO

from ..report import Report

NAME = "json"
SUFFIX = ".json"


@cache
def schema() -> dict[str, Any]:
    text = resources.files("audit").joinpath("schemas/report.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate(document: dict[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` if `document` is not a valid report."""
    import jsonschema

    jsonschema.validate(document, schema(), format_checker=jsonschema.FormatChecker())


def render(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, sort_keys=False) + "\n"


def write(report: Report, out: TextIO) -> None:
    """The same text as `render`, written in pieces (json.dump encodes incrementally)."""
    json.dump(report.to_json(), out, indent=2, sort_keys=False)
    out.write("\n")
