"""HTML: one self-contained, escaped file; numbers readable from the DOM; checked in headless Chromium."""

from __future__ import annotations

import json
import re
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from format_fixtures import HOSTILE_MESSAGE, HOSTILE_RESOURCE, finding

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


# ------------------------------------------------------------- layout, sorting and the hash, in Chromium

# Appended to a copy of the report (its CSP allows inline scripts): measures what the browser laid out and
# reports it in a <pre id="layout-probe">, or to the parent page when the report is framed.
PROBE = """
(function(){
  var vw=document.documentElement.clientWidth, out={window:window.innerWidth, vw:vw,
    page:document.documentElement.scrollWidth,
    outside:[], display:[], badges:{}};
  var wrap=document.querySelector('#findings .table-wrap');
  out.wrap=wrap?[wrap.scrollWidth, wrap.clientWidth]:null;
  var right=wrap?wrap.getBoundingClientRect().right:vw;
  document.querySelectorAll('#findings-table th, #findings-table tr.finding td').forEach(function(cell){
    var tr=cell.parentElement; if(tr.hidden) return;
    var r=cell.getBoundingClientRect(); if(!r.width) return;
    if(r.left<-0.5||r.right>Math.min(vw,right)+0.5) out.outside.push([cell.className, r.left, r.right]);
  });
  document.querySelectorAll('#findings-table tr.finding').forEach(function(tr){
    out.display.push(getComputedStyle(tr).display); });
  document.querySelectorAll('.badge').forEach(function(b){
    var st=getComputedStyle(b); out.badges[b.className]=[st.color, st.backgroundColor]; });
  var data=JSON.stringify(out);
  if(window.parent!==window){ parent.postMessage(data,'*'); return; }
  var pre=document.createElement('pre'); pre.id='layout-probe'; pre.textContent=data; document.body.appendChild(pre);
})();
"""
FRAME = """<!DOCTYPE html><html><body style="margin:0"><pre id="layout-probe"></pre>
<iframe src="report.html" width="{width}" height="{height}" style="border:0"></iframe>
<script>window.addEventListener('message',function(e){{document.getElementById('layout-probe').textContent=e.data;}});
</script></body></html>"""
RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}
DESKTOP = ((1400, 1000), (1920, 1080))
PHONE = (390, 844)  # headless Chromium's window is at least 500 px wide: a phone is framed


def _with_script(report: Report, directory: Path, script: str) -> Path:
    page = directory / "report.html"
    page.write_text(html.render(report).replace("</body>", f"<script>{script}</script></body>"), encoding="utf-8")
    return page


def _dump(profile: Path, url: str, *extra: str) -> Dom:
    # The virtual time budget lets queued events (hashchange, postMessage) run before the DOM is printed.
    return parse(_chromium(profile, url, "--dump-dom", "--virtual-time-budget=5000", *extra).stdout)


def _layout(profile: Path, report: Report, directory: Path, width: int, height: int) -> dict[str, Any]:
    page = _with_script(report, directory, PROBE)
    if width < 500:
        frame = directory / "frame.html"
        frame.write_text(FRAME.format(width=width, height=height), encoding="utf-8")
        dom = _dump(profile, frame.as_uri(), "--window-size=800,1000")
    else:
        dom = _dump(profile, page.as_uri(), f"--window-size={width},{height}")
    measured: dict[str, Any] = json.loads(dom.by_id("layout-probe").text)
    assert measured["window"] == width, measured["window"]
    return measured


def _long_words(report: Report) -> Report:
    """Findings whose text has long unbreakable words (digests, URLs), which used to push the status column
    out of view."""
    digest = "sha256:" + "0123456789abcdef" * 8
    url = "https://registry.example/v2/" + "very-long-repository-name-" * 6 + "/manifests/" + digest
    long_one = finding("version-tag-moved", f"image:registry.example/{'models' * 12}:v1.0.0",
                       f"v1.0.0 moved from {digest} to {digest} ({url})", trend="new",
                       evidence={"tag": "v1.0.0", "digest": digest, "url": url})
    return replace(report, findings=(long_one, *report.findings))


@pytest.mark.parametrize(("width", "height"), DESKTOP, ids=lambda v: str(v))
def test_no_column_outside_the_viewport_on_desktop(chromium: Path, report: Report, tmp_path: Path,
                                                   width: int, height: int) -> None:
    measured = _layout(chromium, _long_words(report), tmp_path, width, height)
    assert measured["outside"] == []
    scroll, client = measured["wrap"]
    assert scroll <= client  # the table never scrolls sideways, so the status column is always in view
    assert measured["page"] <= measured["vw"]  # the page does not scroll sideways either
    assert set(measured["display"]) == {"table-row"}


def test_findings_are_cards_on_a_phone(chromium: Path, report: Report, tmp_path: Path) -> None:
    measured = _layout(chromium, _long_words(report), tmp_path, *PHONE)
    assert set(measured["display"]) == {"block"}  # a card per finding, not a table row
    assert measured["outside"] == []
    assert measured["page"] <= measured["vw"]


def test_demo_report_layout(chromium: Path, demo: Report, tmp_path: Path) -> None:
    for width, height in (*DESKTOP, PHONE):
        measured = _layout(chromium, demo, tmp_path, width, height)
        assert measured["outside"] == [], (width, measured["outside"][:3])
        assert measured["page"] <= measured["vw"], width


def _luminance(css: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", css)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_severity_badges_meet_wcag_aa_contrast(chromium: Path, report: Report, tmp_path: Path) -> None:
    badges = _layout(chromium, report, tmp_path, *DESKTOP[0])["badges"]
    assert {name.split()[-1] for name in badges} >= {"sev-critical", "sev-high", "sev-medium", "sev-low"}
    for name, (color, background) in badges.items():
        light, dark = sorted((_luminance(color), _luminance(background)), reverse=True)
        ratio = (light + 0.05) / (dark + 0.05)
        assert ratio >= 4.5, f"{name}: {color} on {background} is {ratio:.2f}:1"  # 12 px bold is not large text


def _visible(dom: Dom) -> list[Element]:
    return [r for r in dom.select("tr", data_fingerprint=None) if "hidden" not in r.attrs]


def test_new_only_filter_from_the_hash(chromium: Path, report: Report, tmp_path: Path) -> None:
    page = _write(report, tmp_path)
    dom = _dump(chromium, page.as_uri() + "#new=only")
    visible = _visible(dom)
    assert {r.attrs["data-trend"] for r in visible} == {"new"}
    assert len(visible) == sum(1 for f in report.findings if f.trend == "new") == 3
    assert dom.by_id("visible-count").text == "3"


def test_a_hash_changed_after_load_filters_again(chromium: Path, report: Report, tmp_path: Path) -> None:
    page = _with_script(report, tmp_path, "location.hash='severity=high&waived=no';")
    dom = _dump(chromium, page.as_uri() + "#severity=critical")
    visible = _visible(dom)
    assert {r.attrs["data-severity"] for r in visible} == {"high"}
    assert {r.attrs["data-waived"] for r in visible} == {"false"}
    assert dom.by_id("visible-count").text == str(len(visible)) == "2"


def test_changing_a_filter_updates_the_hash(chromium: Path, report: Report, tmp_path: Path) -> None:
    script = """var s=document.getElementById('filter-rule'); s.value='no-public-access';
s.dispatchEvent(new Event('change'));
var p=document.createElement('pre'); p.id='hash'; p.textContent=location.hash; document.body.appendChild(p);"""
    dom = _dump(chromium, _with_script(report, tmp_path, script).as_uri())
    assert dom.by_id("hash").text == "#rule=no-public-access"
    assert {r.attrs["data-rule"] for r in _visible(dom)} == {"no-public-access"}


@pytest.mark.parametrize(("column", "clicks", "expected"), [
    ("resource", 1, lambda fs: sorted(f.resource for f in fs)),
    ("resource", 2, lambda fs: sorted((f.resource for f in fs), reverse=True)),
    ("rule", 1, lambda fs: sorted(f.rule_id for f in fs)),
    # most severe first; ties keep the report's order
    ("rank", 1, lambda fs: [f.severity for f in sorted(fs, key=lambda f: -RANK[f.severity])]),
    ("rank", 2, lambda fs: [f.severity for f in sorted(fs, key=lambda f: RANK[f.severity])]),
])
def test_sorting_by_a_column(chromium: Path, report: Report, tmp_path: Path, column: str, clicks: int,
                             expected: Any) -> None:
    script = f"var b=document.querySelector('th[data-sort={column}] button');" + "b.click();" * clicks
    dom = _dump(chromium, _with_script(report, tmp_path, script).as_uri())
    rows = dom.select("tr", data_fingerprint=None)
    attribute = {"resource": "data-resource", "rule": "data-rule", "rank": "data-severity"}[column]
    assert [r.attrs[attribute] for r in rows] == expected(report.findings)
    (head,) = dom.select("th", data_sort=column)
    first = "descending" if column == "rank" else "ascending"  # severity starts with the most severe
    assert head.attrs["aria-sort"] == (first if clicks == 1 else {"ascending": "descending",
                                                                  "descending": "ascending"}[first])
