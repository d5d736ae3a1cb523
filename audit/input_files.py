"""Reading the audit's input files (settings, waivers, stack exports, stack and pack configs, saved reports).

One reader so that every file fails the same way: one line naming the file and what is wrong with it
(unreadable, too large, not UTF-8, not valid JSON/YAML, nested too deeply, a key given twice), raised as the
caller's own error type. Messages never quote the file's content: it may be anything, a secret included.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Final, Literal

import yaml

# Settings, waivers and configs are a few kilobytes; a stack export of thousands of resources, or a report
# of 100k images, tens of megabytes. Anything past these is not such a file (e.g. /dev/zero).
MAX_CONFIG_BYTES: Final = 16 * 2**20
MAX_DOCUMENT_BYTES: Final = 256 * 2**20
# Numbers a report or export may hold: counts, sizes, seconds. Bigger ones only break what renders them.
_MAX_INT: Final = 2**63


class _Refused(ValueError):
    """A value the reader refuses; the message says which, without the file's text."""


def read_text(path: Path, error: Callable[[str], Exception], max_bytes: int = MAX_CONFIG_BYTES) -> str:
    """The UTF-8 text of `path`, read at most `max_bytes` (and one more, to tell it is larger)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise error(f"{path}: larger than {max_bytes // 2**20} MiB, not an input the audit reads")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{path}: cannot read (not UTF-8 text)") from None


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused("a key is given twice in one object")
        out[key] = value
    return out


def _constant(name: str) -> float:
    raise _Refused(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("a number is too large")
    return value


def _bounded(text: str) -> int:
    value = int(text)
    if abs(value) > _MAX_INT:
        raise _Refused("a number is too large")
    return value


def parse_json(text: str) -> Any:
    """Strict JSON: no NaN or Infinity, no number too large to use, no key given twice."""
    return json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_constant, parse_float=_finite,
                      parse_int=_bounded)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML says keys are unique; PyYAML keeps the
    last, so a waiver or setting written twice would silently mean the second)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, Hashable) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "a key is given twice in one mapping", key_node.start_mark)
        if isinstance(key, Hashable):
            seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: plain data only


def load_document(path: Path, syntax: Literal["json", "yaml"], error: Callable[[str], Exception],
                  max_bytes: int = MAX_CONFIG_BYTES) -> Any:
    """The parsed content of `path`; any failure is `error(message)` with a one-line message."""
    name = syntax.upper()
    text = read_text(path, error, max_bytes)
    try:
        return parse_json(text) if syntax == "json" else parse_yaml(text)
    except RecursionError:
        raise error(f"{path}: not valid {name} (nested too deeply)") from None
    except _Refused as exc:
        raise error(f"{path}: not valid {name} ({exc})") from None
    except yaml.MarkedYAMLError as exc:
        # The problem and where, never the snippet PyYAML would quote from the file.
        where = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise error(f"{path}: not valid {name} ({exc.problem or exc.context or 'malformed'}{where})") from None
    # ValueError covers JSON errors and YAML's own values (e.g. a date like 2030-02-30).
    except (ValueError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"{path}: not valid {name} ({first[:200]})") from None

