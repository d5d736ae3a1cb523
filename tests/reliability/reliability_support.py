"""Shared helpers for the reliability tests: a small seeded registry, the audit in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdev.oci_push import push_image

REPO_ROOT = Path(__file__).resolve().parents[2]

# A small OCI estate: enough to have a catalog, several tag lists and HEADs, a finding or two.
SMALL_LAYOUT: dict[str, list[tuple[str, ...]]] = {
    "models/llm": [("v1.0.0",), ("v1.1.0", "latest")],
    "models/vision": [("dev",)],
    "team/ranker": [("v2.0.0",)],
}


def seed_small(url: str, layout: dict[str, list[tuple[str, ...]]] | None = None) -> dict[tuple[str, str], str]:
    """Push `layout` to the registry at `url`; returns {(repo, tag): digest}."""
    digests: dict[tuple[str, str], str] = {}
    for repo, images in (layout or SMALL_LAYOUT).items():
        for i, tags in enumerate(images):
            digest = push_image(url, repo, list(tags), content_seed=f"{repo}#{i}", layer_seed="shared")
            for tag in tags:
                digests[(repo, tag)] = digest
    return digests


@dataclass
class CliRun:
    rc: int
    stdout: str
    stderr: str
    output: Path

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.output / "registry-guard-scan.json").read_text(encoding="utf-8"))

    def findings(self) -> set[tuple[str, str, str]]:
        return {(f["rule_id"], f["resource"], f["message"]) for f in self.report["findings"]}

    def assert_clean_exit(self) -> None:
        """Whatever happened, the process said so in words: no traceback, no crash exit code."""
        assert "Traceback" not in self.stderr and "Traceback" not in self.stdout, self.stderr[-3000:]
        assert self.rc in (0, 1, 2, 3), (self.rc, self.stderr[-3000:])


def audit_env(extra: dict[str, str] | None = None, *, drop: tuple[str, ...] = ()) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS") and k not in drop}
    env.update(extra or {})
    return env


def run_cli(args: list[str], output: Path, *, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 120.0) -> CliRun:
    """`python -m audit ARGS --output OUTPUT` in a fresh process."""
    output.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "audit", *args, "--output", str(output)],
        capture_output=True, text=True, timeout=timeout, env=env if env is not None else audit_env(),
        cwd=str(cwd or output), stdin=subprocess.DEVNULL,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr, output)
