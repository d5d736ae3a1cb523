"""The installed project (the nightly job's image installs it non-editable) carries every package."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_lists_every_package() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    roots = {name: ROOT / path for name, path in setuptools["package-dir"].items() if name}
    found = set()
    for top in ("audit", "localdev", "model_registry", *roots):
        base = roots.get(top, ROOT / top)
        found |= {".".join((top, *init.parent.relative_to(base).parts)) for init in base.rglob("__init__.py")}
    assert set(setuptools["packages"]) == found
