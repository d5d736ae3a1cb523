"""HTML: one self-contained, escaped file; numbers readable from the DOM; checked in headless Chromium."""

from __future__ import annotations

import re
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from format_fixtures import HOSTILE_MESSAGE, HOSTILE_RESOURCE

from audit.formats import html
from audit.report import Report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""


@dataclass
class Dom(HTMLParser):
    """Just enough of a DOM for the tests: every element with its attributes and direct text."""

    elements: list[Element] = field(default_factory=list)
    _open: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag not in ("meta", "input", "br", "link", "img"):
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1].text += data

    def by_id(self, element_id: str) -> Element:
        return next(e for e in self.elements if e.attrs.get("id") == element_id)

    def select(self, tag: str, **attrs: str | None) -> list[Element]:
        return [e for e in self.elements if e.tag == tag
                and all(k.replace("_", "-") in e.attrs and (v is None or e.attrs[k.replace("_", "-")] == v)
                        for k, v in attrs.items())]


def parse(document: str) -> Dom:
    dom = Dom()
    dom.feed(document)
    return dom


def _bars(dom: Dom, chart: str) -> dict[str, int]:
    """Chart bars inside the svg with id `chart`: label attribute -> data-count."""
    inside, bars = False, {}
    for e in dom.elements:
        if e.tag == "svg":
            inside = e.attrs.get("id") == chart
        elif inside and e.tag == "rect" and "data-count" in e.attrs:
            key = e.attrs.get("data-severity") or e.attrs.get("data-rule") or ""
            bars[key] = int(e.attrs["data-count"] or 0)
    return bars


# ------------------------------------------------------------------------------------ static checks


def test_counts_and_bars_in_the_markup(report: Report) -> None:
    dom = parse(html.render(report))
    assert dom.by_id("finding-count").text == str(len(report.findings))
    assert _bars(dom, "chart-severity") == {"critical": 3, "high": 3, "medium": 3, "low": 1}
    assert _bars(dom, "chart-rule") == report.summary()["by_rule"]
    assert len(dom.select("tr", data_severity=None, data_fingerprint=None)) == len(report.findings)
    assert dom.by_id("status").attrs["data-status"] == "non-compliant"


def test_every_finding_escaped(report: Report) -> None:
    document = html.render(report)
    for f in report.findings:
        assert escape(f.message) in document
        assert escape(f.resource) in document
    assert HOSTILE_MESSAGE not in document and HOSTILE_RESOURCE not in document
    assert "<script>alert" not in document and "<img src=x" not in document
    assert document.count("<script>") == 1  # only our own filter script


def test_self_contained(report: Report) -> None:
    document = html.render(report)
    assert "<link" not in document and "@import" not in document
    assert not re.search(r"""\b(src|srcset|poster|data)\s*=\s*["']?(https?:)?//""", document)
    assert "url(" not in document
    assert "default-src 'none'" in document  # the CSP forbids any fetch


def test_sections(report: Report) -> None:
    dom = parse(html.render(report))
    assert {w.attrs["data-status"] for w in dom.select("tr", data_status=None)} == {"active", "expired", "unused"}
    assert len(dom.select("tr", **{"class": "resolved-finding"})) == 1
    assert dom.by_id("trend-new").text == "3" and dom.by_id("trend-resolved").text == "1"
    repos = dom.select("details", data_images=None)
    assert [(r.attrs["data-images"], "open" in r.attrs) for r in repos] == [("12", False), ("1", True)]
    assert len(dom.select("details", **{"class": "remediation"})) == len(report.findings)
    assert dom.by_id("timings")
    assert "hidden" in dom.by_id("filters").attrs  # shown only once the script runs


def test_incomplete_banner_and_errors(incomplete: Report) -> None:
    document = html.render(incomplete)
    dom = parse(document)
    assert dom.by_id("status").attrs["data-status"] == "incomplete"
    assert len(dom.select("tr", **{"class": "scan-error"})) == 2
    assert escape("403 Forbidden: <denied> & logged") in document
    assert document.index('id="errors"') < document.index('id="findings"')


def test_clean_scan(empty: Report) -> None:
    dom = parse(html.render(empty))
    assert dom.by_id("status").attrs["data-status"] == "compliant"
    assert dom.by_id("finding-count").text == "0"
    assert _bars(dom, "chart-severity") == {"critical": 0, "high": 0, "medium": 0, "low": 0}


def test_demo_report(demo: Report) -> None:
    document = html.render(demo)
    dom = parse(document)
    assert dom.by_id("finding-count").text == str(len(demo.findings))
    for f in demo.findings:
        assert escape(f.message) in document


# ---------------------------------------------------------------------------------- headless Chromium


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not CHROMIUM.exists():
        pytest.skip("headless browser check needs /usr/bin/chromium (apt-get install chromium)")
    yield tmp_path_factory.mktemp("chromium-profile")


def _chromium(profile: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=120, check=True)


def _write(report: Report, directory: Path) -> Path:
    path = directory / "report.html"
    path.write_text(html.render(report), encoding="utf-8")
    return path


def test_chromium_renders_the_report(chromium: Path, report: Report, tmp_path: Path) -> None:
    page = _write(report, tmp_path)
    shot = tmp_path / "report.png"
    _chromium(chromium, page.as_uri(), f"--screenshot={shot}", "--window-size=1280,2000")
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1280, 2000)
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few KB

    dom = parse(_chromium(chromium, page.as_uri(), "--dump-dom").stdout)
    assert dom.by_id("finding-count").text == str(len(report.findings))
    assert _bars(dom, "chart-severity") == {"critical": 3, "high": 3, "medium": 3, "low": 1}
    assert _bars(dom, "chart-rule") == report.summary()["by_rule"]
    # the script ran: filters visible, nothing filtered yet
    assert "hidden" not in dom.by_id("filters").attrs
    assert not [r for r in dom.select("tr", data_fingerprint=None) if "hidden" in r.attrs]
    assert dom.by_id("visible-count").text == str(len(report.findings))


def test_chromium_filter_from_link(chromium: Path, report: Report, tmp_path: Path) -> None:
    page = _write(report, tmp_path)
    dom = parse(_chromium(chromium, page.as_uri() + "#severity=critical", "--dump-dom").stdout)
    rows = dom.select("tr", data_fingerprint=None)
    visible = [r for r in rows if "hidden" not in r.attrs]
    assert {r.attrs["data-severity"] for r in visible} == {"critical"}
    assert dom.by_id("visible-count").text == str(len(visible)) == "3"

    dom = parse(_chromium(chromium, page.as_uri() + "#q=alice&waived=yes", "--dump-dom").stdout)
    visible = [r for r in dom.select("tr", data_fingerprint=None) if "hidden" not in r.attrs]
    assert [r.attrs["data-rule"] for r in visible] == ["no-broad-admin"]


def test_chromium_without_javascript_shows_everything(chromium: Path, report: Report, tmp_path: Path) -> None:
    # Headless --dump-dom prints nothing with scripts disabled, so the page's own CSP blocks its script
    # instead: the browser then treats the page exactly as with JavaScript off.
    page = _write(report, tmp_path)
    document = page.read_text(encoding="utf-8")
    assert "script-src 'unsafe-inline'" in document
    page.write_text(document.replace("script-src 'unsafe-inline'", "script-src 'none'"), encoding="utf-8")
    dom = parse(_chromium(chromium, page.as_uri() + "#severity=critical", "--dump-dom").stdout)
    rows = dom.select("tr", data_fingerprint=None)
    assert len(rows) == len(report.findings)
    assert not [r for r in rows if "hidden" in r.attrs]
    assert "hidden" in dom.by_id("filters").attrs
    assert dom.by_id("finding-count").text == str(len(report.findings))
