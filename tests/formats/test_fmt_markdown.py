"""Markdown: a per-rule rollup, then a section per severity; every finding shown with inert text, errors up
front, and always under GitHub's limit."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from format_fixtures import HOSTILE_MESSAGE, HOSTILE_RESOURCE, finding
from hypothesis import given
from hypothesis import strategies as st

from audit.formats import markdown
from audit.formats.options import RenderOptions
from audit.report import Report, ReportFinding


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
    assert "| `no-public-access` Registry is not public | 🟥 critical | 2 | 0 | 1 |" in text
    assert "| `no-broad-admin` Admin roles only to allow-listed principals | 🟧 high | 1 | 1 | 0 |" in text
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
            assert cells in (4, 5, 6, 8), line


def test_waived_trend_and_location_markers(report: Report) -> None:
    text = markdown.render(report)
    assert "waived until 2099-01-31" in text
    assert "🆕 new" in text and "still open" in text
    assert "| `__main__.py#42` |" in text
    assert "| `__main__.py#7,3` |" in text


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
    shown = findings_part.count("| `repository:projects/p/locations/l/repositories/r")
    assert 100 < shown < 2000
    assert f"_… {2000 - shown} more findings not shown here" in findings_part
    assert "| `required-labels` Repositories carry the required labels | 🟦 low | 2000 | 0 | 0 |" in text


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


def test_rollup_leads_then_a_section_per_severity_with_remediation(report: Report) -> None:
    text = markdown.render(report)
    rollup = text.index("### Findings by rule")
    sections = [text.index(f"<summary><strong>{icon} {severity}: ") for severity, icon in
                markdown.SEVERITY_ICON.items()]
    assert rollup < sections[0] and sections == sorted(sections)  # most severe first
    assert text.count("<details open>") == 2 and text.count("</details>") == 4  # critical and high start open
    critical = text[sections[0]:sections[1]]
    assert "#### `no-public-access` Registry is not public (2)" in critical
    assert "Remove allUsers / allAuthenticatedUsers" in critical  # the rule's remediation, once per rule
    assert "[Documentation for no-public-access](https://cloud.google.com/" in critical
    # Each severity's rows stay in its own section.
    assert "`required-labels`" not in critical


def test_declaring_lines_are_links_with_the_source_url(report: Report) -> None:
    options = RenderOptions(source_url="https://github.com/acme/models/blob/0123abc/", path_prefix="infra/registry")
    text = markdown.render(report, options=options)
    assert "[\\_\\_main\\_\\_.py#42](https://github.com/acme/models/blob/0123abc/infra/registry/__main__.py#L42)" \
        in text
    assert "(https://github.com/acme/models/blob/0123abc/infra/registry/__main__.py#L7)" in text


def test_a_check_names_the_config_line_that_set_the_value(report: Report) -> None:
    located = finding("no-personal-writers", "urn:pulumi:dev::model-registry::gcp:artifactregistry/"
                      "repositoryIamMember:RepositoryIamMember::w", "user:alice@example.com can write",
                      source_location="model_registry/component.py#113",
                      evidence={"enforcementLevel": "advisory", "stack_config": {
                          "file": "Pulumi.dev.yaml", "key": "model-registry:writers", "line": 5, "column": 7,
                          "end_line": 5, "end_column": 29}})
    text = markdown.render(replace(report, kind="check", findings=(located,)),
                           options=RenderOptions(source_url="https://github.com/acme/models/blob/0123abc/"))
    assert ("set at [Pulumi.dev.yaml#5](https://github.com/acme/models/blob/0123abc/Pulumi.dev.yaml#L5) · "
            "[model\\_registry/component.py#113](https://github.com/acme/models/blob/0123abc/model_registry/"
            "component.py#L113)") in text


def _check(report: Report, *levels: str) -> Report:
    findings = tuple(finding("no-broad-admin", f"urn:pulumi:dev::p::gcp:x::r{i}", f"violation {i}",
                             evidence={"enforcementLevel": level}) for i, level in enumerate(levels))
    return replace(report, kind="check", findings=findings, waivers=(), resolved=(), undetermined=(), history={})


def test_a_passing_check_is_not_called_non_compliant(report: Report) -> None:
    text = markdown.render(_check(report, "advisory", "advisory"))
    assert text.startswith("## 🟢 Model Registry Guard: Passes the policy pack")
    assert "Non-compliant" not in text
    assert "2 advisory finding(s) to review" in text
    blocked = markdown.render(_check(report, "advisory", "mandatory"))
    assert blocked.startswith("## 🔴 Model Registry Guard: Blocked by the policy pack")
    assert "⛔ blocks `pulumi up`" in blocked
    clean = markdown.render(_check(report))
    assert clean.startswith("## 🟢 Model Registry Guard: Passes the policy pack") and "No findings." in clean


@pytest.mark.parametrize("text", [
    "pulled from https://evil.example/login?next=/ by a bot",
    "see www.evil.example/x for details",
    "ftp://files.example/model.bin",
])
def test_bare_urls_are_never_links(text: str) -> None:
    rendered = markdown.escape(text)
    outside_code = re.sub(r"`[^`]*`", "", rendered)
    assert "://" not in outside_code and "www." not in outside_code
    url = re.search(r"(?:[a-z]+://|www\.)\S+", text)
    assert url is not None and f"`{url.group()}`" in rendered


def test_bidi_overrides_and_control_characters_are_shown_not_obeyed(report: Report) -> None:
    # "txt.exe" written right-to-left would display as "exe.txt"; an ANSI escape would colour a terminal.
    sneaky = "model-\u202etxt.exe \x1b[31mred\x1b[0m \u2066iso\u2069 \u200fmark"
    bad = replace(report, findings=(finding("required-labels", f"repository:{sneaky}", sneaky),))
    text = markdown.render(bad)
    for char in ("\u202e", "\x1b", "\u2066", "\u2069", "\u200f"):
        assert char not in text
    assert markdown.escape(sneaky) in text
    assert markdown.neutral(sneaky) == ("model-[U+202E]txt.exe [U+001B][31mred[U+001B][0m [U+2066]iso[U+2069] "
                                        "[U+200F]mark")
    assert "`repository:model-[U+202E]txt.exe [U+001B][31mred[U+001B][0m" in text


def test_fits_at_any_size_and_every_severity_keeps_its_section(report: Report) -> None:
    many: list[ReportFinding] = []
    for rule_id in ("no-public-access", "immutable-tags", "required-labels", "config-drift"):
        many += [finding(rule_id, f"repository:projects/p/locations/l/repositories/{rule_id}-{i:05d}",
                         "y" * 380 + f" {i}") for i in range(3000)]
    text = markdown.render(replace(report, findings=tuple(many)))
    assert len(text) <= markdown.MAX_CHARS
    for severity in ("critical", "high", "medium", "low"):
        assert f"{severity}: 3000 finding(s)" in text
    assert text.count("more findings not shown here") == 4
    assert text.rstrip().endswith("</sub>")
