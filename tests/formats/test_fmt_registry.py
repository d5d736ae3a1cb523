"""The format registry: every format is registered, written by write_reports and reachable from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.cli import main
from audit.formats import FORMATS, write_reports
from audit.formats.json_report import render as render_json
from audit.formats.json_report import validate
from audit.report import Report, report_from_json

EXPECTED = {"json": ".json", "markdown": ".md", "html": ".html", "sarif": ".sarif", "junit": ".junit.xml",
            "csv": ".csv", "oscal": ".oscal.json"}


def test_registered_formats() -> None:
    assert {name: suffix for name, (suffix, _) in FORMATS.items()} == EXPECTED


def test_write_reports_writes_every_format(report: Report, tmp_path: Path) -> None:
    paths = write_reports(report, tmp_path / "out", list(FORMATS))
    assert sorted(p.name for p in paths) == sorted(f"registry-guard-scan{s}" for s in EXPECTED.values())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)  # no temp files
    csv_bytes = (tmp_path / "out" / "registry-guard-scan.csv").read_bytes()
    assert b"\r\r\n" not in csv_bytes and csv_bytes.count(b"\r\n") >= len(report.findings)


def test_every_format_renders_a_json_round_trip(report: Report) -> None:
    """Rendering the saved JSON gives the same output as rendering the report it came from."""
    document = json.loads(render_json(report))
    validate(document)
    again = report_from_json(document)
    for name, (_, render) in FORMATS.items():
        assert render(again) == render(report), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_report_command(name: str, report: Report, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "scan.json"
    saved.write_text(render_json(report), encoding="utf-8")
    code = main(["report", str(saved), "--format", name, "--output", str(tmp_path / "out")])
    assert code == 1  # unwaived findings at or above high
    written = tmp_path / "out" / f"registry-guard-scan{EXPECTED[name]}"
    assert written.is_file() and written.stat().st_size > 0
    assert f"report: {written}" in capsys.readouterr().out


def test_streamed_json_is_byte_identical_to_rendered(demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from audit.formats import write_reports
    from audit.formats.json_report import render

    [path] = write_reports(demo, tmp_path, ["json"])
    assert path.read_text(encoding="utf-8") == render(demo)
