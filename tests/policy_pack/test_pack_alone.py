"""The pack is self-contained: `policy-pack/` alone, with only its requirements.txt installed, serves the
whole rule set, as it must for `pulumi policy publish` and `pulumi up --policy-pack policy-pack`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from catalogue.rules.resources import AR_MEMBER, AR_TARGET
from registry_guard.catalogue.rule import Stage, rules_at

from audit.offline_check.analyzer import PolicyPackClient, Resource
from scripts.pack_requirements import requirements_txt

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "policy-pack"
UV = ROOT / ".tools" / "uv" / "bin" / "uv"


def test_requirements_are_the_locked_versions() -> None:
    assert (PACK_DIR / "requirements.txt").read_text() == requirements_txt(), (
        "policy-pack/requirements.txt is stale: python -m scripts.pack_requirements > policy-pack/requirements.txt")


@pytest.fixture(scope="module")
def lone_pack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A copy of policy-pack/ in an empty directory, and a fresh virtual environment holding only its
    requirements (uv installs them from its cache when it can, else from the package index)."""
    where = tmp_path_factory.mktemp("alone")
    pack = where / "policy-pack"
    shutil.copytree(PACK_DIR, pack, ignore=shutil.ignore_patterns("__pycache__"))
    venv = where / "venv"
    if UV.exists():
        subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        subprocess.run([str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
                        "-r", str(pack / "requirements.txt")], check=True)
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r",
                        str(pack / "requirements.txt")], check=True)
    yield pack, venv / "bin" / "python"


@pytest.mark.slow
def test_the_copied_pack_serves_every_rule_from_its_own_environment(lone_pack: tuple[Path, Path]) -> None:
    pack, python = lone_pack
    # The environment really is bare: nothing of the project is importable there but from the copy.
    for module in ("audit", "registry_guard"):
        assert subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, cwd="/").returncode != 0
    with PolicyPackClient(pack, python=str(python)) as client:
        info = client.info()
        assert {p.name for p in info.policies} == {r.id for r in rules_at(Stage.DEPLOY)}
        client.configure(None)
        public = Resource(AR_MEMBER, "public", f"urn:pulumi:dev::p::{AR_MEMBER}::public",
                          {**AR_TARGET, "role": "roles/artifactregistry.reader", "member": "allUsers"})
        violations, _ = client.check([public])
    blocking = [v for v in violations if v.policy_name == "no-public-access"]
    assert blocking and blocking[0].enforcement_level == "mandatory"
    assert "allUsers holds roles/artifactregistry.reader" in blocking[0].message
