"""The format registry: every format is registered, written by write_reports and reachable from the CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from audit.cli import main
from audit.formats import FORMATS, MANIFEST_SUFFIX, render, write_reports
from audit.formats.json_report import render as render_json
from audit.formats.json_report import validate
from audit.report import Report, report_from_json

EXPECTED = {"json": ".json", "markdown": ".md", "html": ".html", "sarif": ".sarif", "junit": ".junit.xml",
            "csv": ".csv", "oscal": ".oscal.json"}


def test_registered_formats() -> None:
    assert {name: suffix for name, (suffix, _) in FORMATS.items()} == EXPECTED


def test_write_reports_writes_every_format(report: Report, tmp_path: Path) -> None:
    paths = write_reports(report, tmp_path / "out", list(FORMATS))
    assert sorted(p.name for p in paths) == sorted(f"registry-guard-scan{s}" for s in
                                                   [*EXPECTED.values(), MANIFEST_SUFFIX])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)  # no temp files
    csv_bytes = (tmp_path / "out" / "registry-guard-scan.csv").read_bytes()
    assert b"\r\r\n" not in csv_bytes and csv_bytes.count(b"\r\n") >= len(report.findings)


def test_every_format_renders_a_json_round_trip(report: Report) -> None:
    """Rendering the saved JSON gives the same output as rendering the report it came from."""
    document = json.loads(render_json(report))
    validate(document)
    again = report_from_json(document)
    for name in FORMATS:
        assert render(again, name) == render(report, name), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_report_command(name: str, report: Report, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "scan.json"
    saved.write_text(render_json(report), encoding="utf-8")
    code = main(["report", str(saved), "--format", name, "--output", str(tmp_path / "out")])
    assert code == 1  # unwaived findings at or above high
    written = tmp_path / "out" / f"registry-guard-scan{EXPECTED[name]}"
    assert written.is_file() and written.stat().st_size > 0
    assert f"report: {written}" in capsys.readouterr().out


def test_the_manifest_verifies_every_report_and_catches_an_altered_one(report: Report, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_reports(report, out, ["json", "sarif", "html", "csv"])
    manifest = out / f"registry-guard-scan{MANIFEST_SUFFIX}"
    lines = manifest.read_text().splitlines()
    assert sorted(line.split("  ")[1] for line in lines) == sorted(
        f"registry-guard-scan{EXPECTED[name]}" for name in ("json", "sarif", "html", "csv"))
    for line in lines:
        digest, name = line.split("  ")
        assert digest == hashlib.sha256((out / name).read_bytes()).hexdigest()
    # What a reviewer runs later: coreutils' own check passes, and fails once a report is edited.
    ok = subprocess.run(["sha256sum", "-c", manifest.name], cwd=out, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    html = out / "registry-guard-scan.html"
    html.write_text(html.read_text().replace("Non-compliant", "Compliant"))
    bad = subprocess.run(["sha256sum", "-c", manifest.name], cwd=out, capture_output=True, text=True)
    assert bad.returncode == 1 and "registry-guard-scan.html: FAILED" in bad.stdout


def test_streamed_json_is_byte_identical_to_rendered(demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from audit.formats import write_reports
    from audit.formats.json_report import render

    path, _manifest = write_reports(demo, tmp_path, ["json"])
    assert path.read_text(encoding="utf-8") == render(demo)
