"""Where in `Pulumi.<stack>.yaml` a violating value was set, so a check's finding can point at that line.

Why by value: the pack sees resources, not config keys. A violation names the value it objects to (the
member `user:alice@example.com`, a key name, a location); when that exact value was written in the stack
config, the config line is where a reviewer fixes it. Only whole values count (not a project id inside a
resource path), the longest match wins, and a finding no config value explains keeps pointing at the
program line that declares its resource.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Shorter values ("us", "v", "10") would match by accident.
_MIN_LENGTH = 4


@dataclass(frozen=True)
class ConfigValue:
    key: str  # the full config key, e.g. model-registry:writers
    value: str
    line: int  # 1-based, as editors and SARIF count
    column: int
    end_line: int
    end_column: int

    def evidence(self, file: str) -> dict[str, Any]:
        return {"file": file, "key": self.key, "line": self.line, "column": self.column,
                "end_line": self.end_line, "end_column": self.end_column}


def config_values(text: str, project: str) -> list[ConfigValue]:
    """Every string value under `config:` (list items and map values included), with its position."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return []
    values: list[ConfigValue] = []
    for key_node, value_node in root.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "config" and \
                isinstance(value_node, yaml.MappingNode):
            for name, node in value_node.value:
                if isinstance(name, yaml.ScalarNode):
                    key = name.value if ":" in name.value else f"{project}:{name.value}"
                    values += (_value(key, scalar) for scalar in _scalars(node))
    return values


def _scalars(node: yaml.Node) -> Iterator[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:str":
            yield node
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item)
    elif isinstance(node, yaml.MappingNode):
        for _, item in node.value:
            yield from _scalars(item)


def _value(key: str, node: yaml.ScalarNode) -> ConfigValue:
    start, end = node.start_mark, node.end_mark
    return ConfigValue(key, str(node.value), start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _mentions(text: str, value: str) -> bool:
    """`value` as a whole word of `text`: not part of a longer name or a path."""
    return re.search(rf"(?<![\w./:@-]){re.escape(value)}(?![\w/:@-])(?!\.\w)", text) is not None


def setting_value(message: str, values: Iterable[ConfigValue]) -> ConfigValue | None:
    """The config value a violation's message names (the longest, then the first in the file)."""
    named = [v for v in values if len(v.value) >= _MIN_LENGTH and _mentions(message, v.value)]
    return min(named, key=lambda v: (-len(v.value), v.line, v.column), default=None)


def display_path(path: Path, program: Path) -> str:
    """The config file as the report names it: relative to the program's folder (as the program's own
    source positions are), else to the working directory, else as given."""
    resolved = path.resolve()
    base = program.resolve() if program.is_dir() else program.resolve().parent
    for root in (base, Path.cwd().resolve()):
        try:
            return resolved.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def locate(findings: Iterable[Any], path: Path, program: Path, project: str) -> Mapping[int, dict[str, Any]]:
    """index of a finding -> its `stack_config` evidence, for the findings whose message names a value the
    file sets."""
    values = config_values(path.read_text(encoding="utf-8"), project)
    file = display_path(path, program)
    located = {}
    for index, finding in enumerate(findings):
        found = setting_value(finding.message, values)
        if found is not None:
            located[index] = found.evidence(file)
    return located
