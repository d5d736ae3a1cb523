"""Bad input files, through the real process: one clear line naming the file, exit 2, no traceback.
(Bad registry, Artifact Registry and bucket responses are recorded scan errors, exit 3: see the
*_faults tests.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from reliability_support import audit_env, run_cli

from localdev.oci_registry import LocalRegistry

DEEP_JSON = "[" * 50_000 + "]" * 50_000
BINARY = b"\xff\xfe\x00\x01 not text"

CASES: dict[str, tuple[str, str, str | bytes]] = {
    # id: (option, file name, content)
    "desired-not-json": ("--desired", "stack.json", "{"),
    "desired-not-an-export": ("--desired", "stack.json", "[]"),
    "desired-old-version": ("--desired", "stack.json", '{"version": 2, "deployment": {}}'),
    "desired-resources-not-list": ("--desired", "stack.json", '{"version": 3, "deployment": {"resources": {}}}'),
    "desired-resource-not-object": ("--desired", "stack.json", '{"version": 3, "deployment": {"resources": [7]}}'),
    "desired-deep": ("--desired", "stack.json", DEEP_JSON),
    "desired-binary": ("--desired", "stack.json", BINARY),
    "desired-missing": ("--desired", "absent.json", ""),
    "config-bad-yaml": ("--config", "settings.yaml", "allowedAdmins: [unclosed"),
    "config-list": ("--config", "settings.yaml", "- allowedAdmins\n"),
    "config-unknown-key": ("--config", "settings.json", '{"allowedAdmin": []}'),
    "config-bad-pattern": ("--config", "settings.yaml", "versionTagPattern: '(['\n"),
    "config-deep": ("--config", "settings.json", DEEP_JSON),
    "config-binary": ("--config", "settings.yaml", BINARY),
    # sigstoreTrustedRoot is resolved beside the settings file: missing there, or a file that is no root.
    "config-trusted-root-missing": ("--config", "settings.yaml", "sigstoreTrustedRoot: absent.json\n"),
    "config-trusted-root-not-a-root": ("--config", "settings.yaml", "sigstoreTrustedRoot: settings.yaml\n"),
    "waivers-bad-yaml": ("--waivers", "waivers.yaml", "waivers: [\n"),
    "waivers-no-list": ("--waivers", "waivers.yaml", "{}\n"),
    "waivers-unknown-rule": ("--waivers", "waivers.yaml",
                             "waivers:\n- {rule: nope, resource: x, justification: j, owner: o, "
                             "expires: 2030-01-01}\n"),
    "waivers-bad-date": ("--waivers", "waivers.yaml", "waivers:\n- {rule: no-public-access, resource: x, "
                                                      "justification: j, owner: o, expires: someday}\n"),
    "waivers-deep": ("--waivers", "waivers.yaml", "waivers: " + "[" * 50_000 + "]" * 50_000),
    "waivers-binary": ("--waivers", "waivers.yaml", BINARY),
}


@pytest.fixture(scope="module")
def registry_url(small_registry: tuple[LocalRegistry, dict]) -> str:
    return small_registry[0].url


def _one_error_line(stderr: str, *mentions: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr[-3000:]
    assert lines[0].startswith("error: ") and "Traceback" not in stderr
    for text in mentions:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_file_is_one_line_exit_2(case: str, registry_url: str, tmp_path: Path) -> None:
    option, name, content = CASES[case]
    path = tmp_path / name
    if not case.endswith("missing"):
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    run = run_cli(["scan", "--registry", registry_url, "--timeout", "1", "--quiet", option, str(path)],
                  tmp_path / "out")
    assert run.rc == 2, (run.rc, run.stdout, run.stderr[-2000:])
    _one_error_line(run.stderr, name)
    assert run.stdout == ""


@pytest.mark.parametrize("content", ["{", "[]", '{"kind": "scan"}', DEEP_JSON, BINARY],
                         ids=["not-json", "array", "not-a-report", "deep", "binary"])
def test_bad_report_file_is_one_line_exit_2(content: str | bytes, tmp_path: Path) -> None:
    path = tmp_path / "saved.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    run = run_cli(["report", str(path)], tmp_path / "out")
    assert run.rc == 2, (run.rc, run.stderr[-2000:])
    _one_error_line(run.stderr, "saved.json")


@pytest.mark.parametrize("args", [
    ["--history", "gs://"],
    ["--registry", "http://registry.example.com"],  # plain http off loopback is refused
    ["--shard", "3/2"],
    ["--project", "p"],  # without --location
], ids=["history-gs-no-bucket", "plain-http", "bad-shard", "project-without-location"])
def test_bad_arguments_are_one_line_exit_2(args: list[str], registry_url: str, tmp_path: Path) -> None:
    run = run_cli(["scan", "--registry", registry_url, "--timeout", "1", "--quiet", *args], tmp_path)
    assert run.rc == 2, (run.rc, run.stdout, run.stderr[-2000:])
    _one_error_line(run.stderr)


def test_bad_usage_leaves_no_output_directory_behind(registry_url: str, tmp_path: Path) -> None:
    """The output is probed (created, written, removed) before the scan; a run stopped by bad usage after
    that leaves no empty directory."""
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers: [")
    output = tmp_path / "new" / "reports"
    proc = subprocess.run([sys.executable, "-m", "audit", "scan", "--registry", registry_url, "--quiet",
                           "--waivers", str(waivers), "--output", str(output)], capture_output=True, text=True,
                          timeout=120, env=audit_env(), cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr[-2000:]
    _one_error_line(proc.stderr, "waivers.yaml")
    assert not (tmp_path / "new").exists()
