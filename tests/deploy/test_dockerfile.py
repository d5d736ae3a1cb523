"""The audit's container image, checked without a Docker engine (there is none here to build it): the
Dockerfile is parsed and its promises asserted: base pinned by digest, non-root user, the audit CLI as
entrypoint, every COPY source present, and the build context limited by .dockerignore."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        keyword, _, rest = full.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    assert not pending, "dangling line continuation"
    return result


@pytest.fixture(scope="module")
def parsed() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def _args(parsed: list[tuple[str, str]]) -> dict[str, str]:
    """Global ARG defaults (those before the first FROM)."""
    defaults: dict[str, str] = {}
    for keyword, rest in parsed:
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            defaults[name] = value
    return defaults


def test_every_stage_starts_from_an_image_pinned_by_digest(parsed: list[tuple[str, str]]) -> None:
    defaults = _args(parsed)
    froms = [rest.split()[0] for keyword, rest in parsed if keyword == "FROM"]
    assert len(froms) >= 1
    for image in froms:
        resolved = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: defaults[m[1] or m[2]], image)
        assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", resolved), resolved


def test_runs_as_a_non_root_user(parsed: list[tuple[str, str]]) -> None:
    users = [rest for keyword, rest in parsed if keyword == "USER"]
    assert users, "no USER: the image would run as root"
    final = users[-1].split(":")[0]
    assert final not in ("root", "0"), final
    # The last USER comes after the last FROM, so the runtime stage is the one that drops root.
    last_from = max(i for i, (k, _) in enumerate(parsed) if k == "FROM")
    last_user = max(i for i, (k, _) in enumerate(parsed) if k == "USER")
    assert last_user > last_from


def test_entrypoint_is_the_audit_cli(parsed: list[tuple[str, str]]) -> None:
    (entrypoint,) = [rest for keyword, rest in parsed if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["python", "-m", "audit"]  # exec form: signals reach the CLI
    assert any(k == "ENV" and "PATH=/opt/venv/bin:" in rest for k, rest in parsed)


def test_every_copied_source_exists(parsed: list[tuple[str, str]]) -> None:
    copies = [rest for keyword, rest in parsed if keyword == "COPY"]
    assert copies
    for rest in copies:
        parts = [p for p in shlex.split(rest) if not p.startswith("--")]
        if any(p.startswith("--from") for p in shlex.split(rest)):
            continue  # copies between stages
        *sources, _destination = parts
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_dependencies_come_from_the_lock_without_dev_tools(parsed: list[tuple[str, str]]) -> None:
    runs = " ".join(rest for keyword, rest in parsed if keyword == "RUN")
    assert "uv sync --frozen --no-dev --no-editable" in runs
    uv_version = re.search(r'UV_VERSION=(\S+)', (ROOT / "dev").read_text())
    assert uv_version is not None and f'"uv=={uv_version[1]}"' in runs  # the same uv as ./dev


def test_packages_pyproject_declares_are_all_copied(parsed: list[tuple[str, str]]) -> None:
    """setuptools fails the build if a listed package directory is missing from the context."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = project["tool"]["setuptools"]
    package_dir = setuptools["package-dir"]
    copied = {
        source.rstrip("/")
        for k, rest in parsed
        if k == "COPY" and "--from" not in rest
        for source in shlex.split(rest)[:-1]
    }
    for package in setuptools["packages"]:
        top = package.split(".")[0]
        directory = package_dir.get(top, top)
        assert directory in copied, f"package {package} ({directory}) is not copied"
    assert project["project"]["readme"] in copied


def test_dockerignore_keeps_the_context_to_what_is_copied(parsed: list[tuple[str, str]]) -> None:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"  # deny by default: no .venv, .git, reports or credentials in the context
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for keyword, rest in parsed:
        if keyword == "COPY" and "--from" not in rest:
            *sources, _ = shlex.split(rest)
            copied.update(s.rstrip("/") for s in sources)
    assert copied <= allowed, copied - allowed
