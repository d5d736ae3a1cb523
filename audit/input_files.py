"""Reading the audit's input files (settings, waivers, stack exports, stack and pack configs).

One reader so that every file fails the same way: one line naming the file and what is wrong with it
(unreadable, not UTF-8, not valid JSON/YAML, nested too deeply), raised as the caller's own error type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml


def load_document(path: Path, syntax: Literal["json", "yaml"], error: Callable[[str], Exception]) -> Any:
    """The parsed content of `path`; any failure is `error(message)` with a one-line message."""
    name = syntax.upper()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error(f"{path}: cannot read (not UTF-8 text)") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return json.loads(text) if syntax == "json" else yaml.safe_load(text)
    except RecursionError:
        raise error(f"{path}: not valid {name} (nested too deeply)") from None
    # ValueError covers JSON errors and YAML's own values (e.g. a date like 2030-02-30).
    except (ValueError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"{path}: not valid {name} ({first})") from None
