"""The console, as Trivy and Checkov users expect it: a findings table after the summary line, the JSON report
on stdout with `--output -`, help with exit codes, defaults and examples, `rules`, rule selection, "did you
mean" lines; and no registry name can inject a GitHub Actions workflow command or forge a terminal line.
Against real local registries (a hostile one serves names no honest registry would accept)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_guard.catalogue.rule import all_rules
from scan_support import Estate

from audit.cli import _parser, main
from audit.console import rules_json, safe
from audit.formats.json_report import validate
from localdev.hostile_registry import HostileRegistry, plain

VENV_BIN = Path(sys.executable).parent
# One name per trick: a workflow command on a new line, a cursor-moving ANSI sequence that would overwrite the
# line before, a C1 control (CSI) and a right-to-left override.
HOSTILE_NAMES = ("models/ok", "evil\n::error title=pwned::owned", "ansi\x1b[2K\x1b[1Afake",
                 "c1\x9b31mred", "bidi\u202eexe.txt")


def _cli(*args: str, cwd: Path, console_script: bool = False) -> subprocess.CompletedProcess[str]:
    command = [str(VENV_BIN / "registry-guard")] if console_script else [sys.executable, "-m", "audit"]
    # A wide log, as CI's: every escaped name fits its cell.
    env = {**os.environ, "COLUMNS": "220"}
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, timeout=120, env=env)


@pytest.fixture
def hostile() -> Iterator[HostileRegistry]:
    # Tags without a version: every image is a finding, so every name reaches the findings table.
    with HostileRegistry(plain(HOSTILE_NAMES, tags=("latest",))) as registry:
        yield registry


@pytest.fixture
def failing() -> Iterator[HostileRegistry]:
    """The hostile names in the catalog, and every tag list failing: each name is in a `not read:` line."""
    names = plain(HOSTILE_NAMES)

    def handle(request):  # type: ignore[no-untyped-def]
        if request.route.endswith("/tags/list"):
            from localdev.hostile_registry import json_answer

            return json_answer({"errors": [{"code": "DENIED"}]}, 403)
        return names(request)

    with HostileRegistry(handle) as registry:
        yield registry


def _assert_inert(text: str) -> None:
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), line  # a workflow command starts a line
    for char in ("\x1b", "\x9b", "\u202e"):
        assert char not in text


def test_registry_names_cannot_inject_workflow_commands_or_forge_lines(hostile: HostileRegistry,
                                                                         tmp_path: Path) -> None:
    run = _cli("scan", "--registry", hostile.url, "--timeout", "5", "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    _assert_inert(run.stdout)
    _assert_inert(run.stderr)
    assert "evil\\n::error title=pwned::owned" in run.stdout  # shown, escaped, on the finding's own line
    assert "ansi\\x1b[2K\\x1b[1Afake" in run.stdout and "bidi\\u202eexe.txt" in run.stdout
    assert "c1\\x9b31mred" in run.stdout


def test_not_read_lines_are_escaped_too(failing: HostileRegistry, tmp_path: Path) -> None:
    run = _cli("scan", "--registry", failing.url, "--timeout", "5", "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode == 3, run.stdout + run.stderr
    _assert_inert(run.stderr)
    assert "evil\\n::error title=pwned::owned" in run.stderr


@pytest.mark.parametrize(("text", "shown"), [
    ("a\nb", "a\\nb"), ("\r\x00\x7f", "\\r\\x00\\x7f"), ("\u2066x\u2069", "\\u2066x\\u2069"), ("plain", "plain"),
    ("ünïcödé ✓", "ünïcödé ✓"),
])
def test_safe(text: str, shown: str) -> None:
    assert safe(text) == shown


def test_findings_table_follows_the_summary_line(estate: Estate, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)  # off a terminal: 160 columns
    args = [a for a in estate.scan_args(tmp_path) if a != "--quiet"]
    assert main(args) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("non-compliant: ")
    header = next(i for i, line in enumerate(out) if line.split()[:4] == ["Severity", "Rule", "Resource", "Message"])
    assert header in (1, 2)
    document = json.loads((tmp_path / "registry-guard-scan.json").read_text())
    rows = out[header + 2:]
    # Most severe first, grouped by rule: a rule's id is printed once, on its group's first row.
    severities = [line.split()[0] for line in rows if line.split() and line.split()[0] in
                  ("CRITICAL", "HIGH", "MEDIUM", "LOW")]
    order = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3}
    assert severities == sorted(severities, key=order.__getitem__)
    named = [rule for rule in {f["rule_id"] for f in document["findings"]} if any(rule in line for line in rows)]
    assert named and all(sum(line.split()[1:2] == [rule] for line in rows) == 1 for rule in named)
    assert all(len(line) <= 160 for line in out)  # cut to the width, not wrapped into a mess
    assert out[-1].startswith("report: ")


def test_quiet_prints_no_table(estate: Estate, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(estate.scan_args(tmp_path)) == 1
    out = capsys.readouterr().out
    assert "Severity" not in out and out.startswith("non-compliant: ")


def test_json_report_on_stdout(hostile: HostileRegistry, tmp_path: Path) -> None:
    run = _cli("scan", "--registry", hostile.url, "--timeout", "5", "--format", "json", "--output", "-",
               cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    document = json.loads(run.stdout)  # nothing but the report on stdout
    validate(document)
    assert len(document["findings"]) == len(HOSTILE_NAMES)
    assert run.stderr.count("non-compliant: 5 finding(s)") == 1  # the summary and table went to stderr
    assert list(tmp_path.iterdir()) == []  # no report directory, no files


def test_stdout_takes_one_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--gcr-bucket", "b", "--format", "json", "--format", "html", "--output", "-"]) == 2
    assert "give exactly one --format" in capsys.readouterr().err


def test_help_has_exit_codes_defaults_and_examples(tmp_path: Path) -> None:
    for command in ("scan", "check", "merge", "report"):
        run = _cli(command, "--help", cwd=tmp_path, console_script=True)
        assert run.returncode == 0
        assert run.stdout.startswith(f"usage: registry-guard {command} ")
        assert "exit codes:" in run.stdout and "3  not everything could be read" in run.stdout
        assert f"examples:\n  registry-guard {command} " in run.stdout
    scan = _cli("scan", "--help", cwd=tmp_path, console_script=True).stdout
    assert "(default: 16)" in " ".join(scan.split()) and "(default: high)" in " ".join(scan.split())
    # `python -m audit` keeps working, and says so in its usage line.
    module = _cli("--help", cwd=tmp_path)
    assert module.returncode == 0 and module.stdout.startswith("usage: python -m audit ")


def _actions(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from ((f"{name} {where}", a) for where, a in _actions(child))
        else:
            yield (action.dest, action)


def test_every_option_has_help_text() -> None:
    for where, action in _actions(_parser()):
        assert action.help, where


@pytest.mark.parametrize(("args", "hint"), [
    (["scan", "--regsitry", "https://r.example"], "did you mean --registry or --repository?"),
    (["scna"], "did you mean scan?"),
    (["scan", "--gcr-bucket", "b", "--format", "htlm"], "did you mean html?"),
    (["scan", "--registry", "registry.example.com"], "did you mean https://registry.example.com?"),
    (["scan", "--gcr-bucket", "b", "--skip-rules", "required-label"], "did you mean required-labels?"),
])
def test_did_you_mean(args: list[str], hint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and hint in err and len(err.splitlines()) == 1


def test_rules_lists_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    for rule in all_rules().values():
        line = next(line for line in out.splitlines() if line.split()[:1] == [rule.id])
        assert rule.severity in line.split() and ", ".join(rule.where) in line
    assert main(["rules", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == rules_json()
    assert [r["id"] for r in listed] == list(all_rules())
    first = all_rules()[listed[0]["id"]]
    assert listed[0]["frameworks"] == [{"name": f.name, "version": f.version, "reference": f.reference}
                                       for f in first.frameworks]


def test_scan_evaluates_exactly_the_selected_rules(hostile: HostileRegistry, tmp_path: Path) -> None:
    def evaluated(*selection: str) -> tuple[int, dict[str, object]]:
        out = tmp_path / "-".join(selection)
        code = main(["scan", "--registry", hostile.url, "--timeout", "5", "--quiet", "--output", str(out),
                     *selection])
        return code, json.loads((out / "registry-guard-scan.json").read_text())

    code, only = evaluated("--rules", "no-public-access,immutable-tags")
    assert only["rules_evaluated"] == ["immutable-tags", "no-public-access"]
    assert code == 0 and only["findings"] == []  # version-tag-required did not run
    code, skipped = evaluated("--skip-rules", "version-tag-required")
    assert "version-tag-required" not in skipped["rules_evaluated"] and skipped["rules_evaluated"]
    assert code == 0
    _, everything = evaluated("--skip-rules", "legacy-gcr")
    assert "version-tag-required" in everything["rules_evaluated"]
    assert {f["rule_id"] for f in everything["findings"]} == {"version-tag-required"}  # type: ignore[union-attr]


def test_check_evaluates_exactly_the_selected_rules(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "audit", "check", "--quiet", "--output", str(out),
                          "--config-value", "gcp:project=demo-project",
                          "--config-value", 'model-registry:writers=["user:alice@example.com"]',
                          "--rules", "no-personal-writers,no-public-access"],
                         capture_output=True, text=True, cwd=root, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    document = json.loads((out / "registry-guard-check.json").read_text())
    assert sorted(document["rules_evaluated"]) == ["no-personal-writers", "no-public-access"]
    assert {f["rule_id"] for f in document["findings"]} == {"no-personal-writers"}
    assert run.stdout.startswith("passes: ")  # advisory findings only: the check passes the pack
