"""Markdown: every finding shown with inert text, errors up front, and always under GitHub's limit."""

from __future__ import annotations

from dataclasses import replace

from format_fixtures import HOSTILE_MESSAGE, HOSTILE_RESOURCE, finding
from hypothesis import given
from hypothesis import strategies as st

from audit.formats import markdown
from audit.report import Report


def test_every_finding_is_listed(report: Report) -> None:
    text = markdown.render(report)
    for f in report.findings:
        assert markdown.escape(f.message) in text
        assert markdown.code(f.resource) in text
        assert f"`{f.rule_id}`" in text


def test_status_and_counts(report: Report) -> None:
    text = markdown.render(report)
    assert text.startswith("## 🔴 Model Registry Guard: Non-compliant")
    assert "**10 finding(s)** (3 critical · 3 high · 3 medium · 1 low), 1 waived" in text
    assert "| 🟥 critical | 3 | 0 | 2 |" in text
    assert "Since the previous scan: **3 new**, 5 still open, **1 resolved**." in text


def test_special_characters_are_inert(report: Report) -> None:
    text = markdown.render(report)
    # A code span is shown literally, so the tag inside the resource's code span is inert.
    assert "<script>" not in text and "<img" not in text.replace(markdown.code(HOSTILE_RESOURCE), "")
    assert ("&lt;script>alert(\"x\")&lt;/script> &amp; \\| \\*bold\\* \\_under\\_ \\`tick\\` "
            "\\[link\\](javascript:alert(1)) @&#8203;ml-team") in text
    assert markdown.code(HOSTILE_RESOURCE) == (
        "`repository:projects/demo/locations/us/repositories/<img src=x onerror=alert(1)>\\|pipe`")
    assert HOSTILE_MESSAGE not in text
    # Every table row keeps its column count: no stray pipe or newline splits a row.
    for line in text.splitlines():
        if line.startswith("| ") and "Severity | Rule | Resource | Message" not in line:
            cells = line.replace("\\|", "").count("|")
            assert cells in (5, 7, 8, 4), line


def test_waived_trend_and_location_markers(report: Report) -> None:
    text = markdown.render(report)
    assert "waived until 2099-01-31" in text
    assert "🆕 new" in text and "still open" in text
    assert "(`__main__.py#42`)" in text


def test_waivers_table_has_every_state(report: Report) -> None:
    text = markdown.render(report)
    assert "### Waivers" in text
    assert "✅ active" in text and "⚠️ expired" in text and "💤 unused" in text
    assert "1 waiver(s) expired" in text


def test_resolved_and_undetermined(report: Report) -> None:
    text = markdown.render(report)
    assert "### ✅ Resolved since the previous scan (1)" in text and "bucket:old-reports" in text
    assert "### Undetermined (1)" in text


def test_incomplete_scan_shows_errors_first(incomplete: Report) -> None:
    text = markdown.render(incomplete)
    assert text.startswith("## 🟠 Model Registry Guard: Incomplete scan")
    assert text.index("> [!CAUTION]") < text.index("### Findings")
    assert "403 Forbidden: &lt;denied> &amp; logged" in text
    assert "`https://registry.example/v2/`" in text


def test_clean_scan(empty: Report) -> None:
    text = markdown.render(empty)
    assert text.startswith("## 🟢 Model Registry Guard: Compliant")
    assert "No findings." in text


def test_truncates_under_the_github_limit(report: Report) -> None:
    many = tuple(finding("required-labels", f"repository:projects/p/locations/l/repositories/r{i:05d}",
                         f"r{i:05d} lacks label(s) owner, model " + "x" * 150) for i in range(2000))
    big = replace(report, findings=many, resolved=many[:500])
    text = markdown.render(big)
    assert len(text) <= markdown.MAX_CHARS < markdown.GITHUB_COMMENT_LIMIT
    assert "more findings not shown here (GitHub comment size limit)" in text
    assert "more resolved findings not shown here" in text
    assert "### Waivers" in text and text.rstrip().endswith("</sub>")
    findings_part = text.split("### Waivers")[0]
    shown = findings_part.count("| 🟦 low | `required-labels`")
    assert 100 < shown < 2000
    assert f"_… {2000 - shown} more findings not shown here" in findings_part


def test_huge_error_list_still_fits(report: Report, incomplete: Report) -> None:
    errors = incomplete.errors * 5000
    text = markdown.render(replace(incomplete, errors=errors))
    assert len(text) <= markdown.MAX_CHARS


def test_demo_report(demo: Report) -> None:
    text = markdown.render(demo)
    for f in demo.findings:
        assert markdown.escape(f.message) in text or "not shown here" in text


@given(st.text())
def test_escaped_text_never_breaks_a_table_or_opens_html(text: str) -> None:
    cell = markdown.escape(text)
    assert "\n" not in cell and "<" not in cell
    assert "|" not in cell.replace("\\|", "")
