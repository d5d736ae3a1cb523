"""Print the policy pack's requirements.txt: its dependencies pinned to the versions uv.lock locks.

    python -m scripts.pack_requirements > policy-pack/requirements.txt

The pack is published and run on its own (`pulumi policy publish`, `pulumi up --policy-pack`), so it carries
its own pins; taking them from the project's lock means the published pack runs what the tests ran.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What the pack imports itself; everything else is theirs.
PACK_DEPENDENCIES = ("pulumi-policy", "pulumi", "typing-extensions", "interegular")
HEADER = """\
# The policy pack's dependencies and theirs, pinned to the versions the project's uv.lock locks, so the
# published pack runs what the tests ran. Generated: python -m scripts.pack_requirements
"""


def pinned(lock_path: Path = ROOT / "uv.lock") -> list[str]:
    packages = {p["name"]: p for p in tomllib.loads(lock_path.read_text())["package"]}
    versions: dict[str, str] = {}
    todo = list(PACK_DEPENDENCIES)
    while todo:
        name = todo.pop()
        if name not in versions:
            versions[name] = packages[name]["version"]
            todo.extend(d["name"] for d in packages[name].get("dependencies", []))
    return [f"{name}=={version}" for name, version in sorted(versions.items())]


def requirements_txt() -> str:
    return HEADER + "".join(f"{line}\n" for line in pinned())


if __name__ == "__main__":
    sys.stdout.write(requirements_txt())
