"""CSV: one row per finding, readable back, and no cell a spreadsheet would evaluate."""

from __future__ import annotations

import csv
import io

from format_fixtures import FORMULA_MESSAGE, FORMULA_RESOURCE, MINUS_RESOURCE, PLUS_MESSAGE
from hypothesis import given
from hypothesis import strategies as st

from audit.formats import csv_report
from audit.report import Report


def _rows(report: Report) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_report.render(report), newline="")))


def test_one_row_per_finding(report: Report) -> None:
    rows = _rows(report)
    assert len(rows) == len(report.findings)
    assert tuple(rows[0]) == csv_report.COLUMNS
    for row, f in zip(rows, report.findings, strict=True):
        assert row["rule_id"] == f.rule_id and row["severity"] == f.severity
        assert row["fingerprint"] == f.fingerprint
        assert row["waived"] == ("true" if f.waived else "false")
        assert row["frameworks"] == "; ".join(f.frameworks)
        assert row["source_location"] == (f.source_location or "")
        assert row["trend"] == (f.trend or "")


def test_waiver_columns(report: Report) -> None:
    waived = next(r for r in _rows(report) if r["waived"] == "true")
    assert "SEC-42" in waived["waiver_justification"] and waived["waiver_expires"] == "2099-01-31"


def test_formula_injection_is_neutralized(report: Report) -> None:
    rows = _rows(report)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value
    cells = {v for row in rows for v in row.values()}
    assert "'" + FORMULA_MESSAGE in cells
    assert "'" + FORMULA_RESOURCE in cells
    assert "'" + MINUS_RESOURCE in cells
    assert "'" + PLUS_MESSAGE in cells


def test_multiline_and_special_text_round_trips(report: Report) -> None:
    messages = {r["message"] for r in _rows(report)}
    assert "labels differ from the stack\nsecond line" in messages
    assert any("<script>" in m and "|" in m for m in messages)


def test_demo_report(demo: Report) -> None:
    assert len(_rows(demo)) == len(demo.findings)


@given(st.text())
def test_neutralize_never_leaves_a_formula(text: str) -> None:
    cell = csv_report.neutralize(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell in (text, "'" + text)
