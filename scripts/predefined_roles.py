"""Write the bundled snapshot of Google's predefined roles (`catalogue/predefined_roles.json`).

    gcloud iam roles list --view=FULL --format=json > roles.json      # every predefined role, with permissions
    python -m scripts.predefined_roles roles.json --as-of 2026-08-22 > \
        policy-pack/registry_guard/catalogue/predefined_roles.json

The input is what the IAM roles API returns (`roles.list` with `view=FULL`): a JSON list of Role objects, a
`{"roles": [...]}` page, or a directory of one Role JSON file each. Every role is kept, cut to the
permissions the capabilities read (`capabilities.RELEVANT_PERMISSIONS`), so a role that grants none of them
is known to grant none rather than unknown. The snapshot is only the audit's offline fallback: a scan asks
the roles API first.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from registry_guard.catalogue.capabilities import RELEVANT_PERMISSIONS


def _roles(path: Path) -> Iterator[dict[str, Any]]:
    if path.is_dir():
        for file in sorted(path.glob("*.json")):
            yield json.loads(file.read_text())
        return
    data = json.loads(path.read_text())
    yield from data["roles"] if isinstance(data, dict) else data


def snapshot(path: Path, as_of: str, source: str) -> dict[str, Any]:
    roles = {}
    for role in _roles(path):
        name = role["name"]
        if not name.startswith("roles/"):
            continue
        roles[name] = {"title": role.get("title", ""), "stage": role.get("stage", "GA"),
                       "permissions": sorted(set(role.get("includedPermissions", ())) & RELEVANT_PERMISSIONS)}
    return {"as_of": as_of, "source": source, "permissions": sorted(RELEVANT_PERMISSIONS),
            "roles": dict(sorted(roles.items()))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roles", type=Path, help="roles.list output (file) or a directory of Role JSON files")
    parser.add_argument("--as-of", required=True, help="the date the roles were listed (YYYY-MM-DD)")
    parser.add_argument("--source", default="IAM roles API, roles.list view=FULL")
    args = parser.parse_args(argv)
    sys.stdout.write(render(snapshot(args.roles, args.as_of, args.source)))


def render(data: dict[str, Any]) -> str:
    """One role a line: the file stays reviewable in a diff when Google changes a role."""
    head = {k: v for k, v in data.items() if k != "roles"}
    lines = [json.dumps(head)[:-1] + ', "roles": {']
    items = list(data["roles"].items())
    for i, (name, body) in enumerate(items):
        lines.append(f" {json.dumps(name)}: {json.dumps(body)}{',' if i < len(items) - 1 else ''}")
    return "\n".join([*lines, "}}"]) + "\n"


if __name__ == "__main__":
    main()
