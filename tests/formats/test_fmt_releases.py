"""The release table in every format that shows it: the JSON report (schema, round trip), Markdown and HTML
(escaped, those needing attention first, counts readable from the DOM, checked in headless Chromium with long
digests on a desktop window)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from format_fixtures import HOSTILE_MESSAGE, sample_report

from audit.formats import html, markdown
from audit.formats.releases_html import ROW_LIMIT
from audit.report import Report, report_from_json

SCHEMA = Path(__file__).resolve().parents[2] / "audit" / "schemas" / "report.schema.json"
CHROMIUM = Path("/usr/bin/chromium")
DIGEST = "sha256:" + "0123456789abcdef" * 4


def _status(state: str, detail: str = "") -> dict[str, str]:
    return {"status": state, "detail": detail}


def _row(package: str, tag: str, signed: dict[str, str], provenance: dict[str, str], sbom: str = "none",
         **extra: Any) -> dict[str, Any]:
    return {"repository": "registry.example", "package": package, "digest": DIGEST, "tags": [tag],
            "signed": signed, "provenance": provenance, "sbom": _status(sbom),
            "version_label": extra.get("version_label"), "model": extra.get("model")}


ROWS = [
    _row("models/llm", "v1.0.0", _status("verified", "key release-key"), _status("verified", "https://ci/builder"),
         "present", version_label="1.0.0"),
    _row("models/llm", "v1.1.0", _status("failed", f"signature cosign-tag: unknown key {HOSTILE_MESSAGE}"),
         _status("missing", "no provenance attestation")),
    _row("models/xyz", "v3.1.0", _status("not judged", "only the Artifact Registry API was scanned"),
         _status("present", "not required by the settings, so not verified"),
         model={"packaging": "ModelPack", "name": "xyz-3-8B-Instruct", "version": "3.1"}),
]


def _report(rows: list[dict[str, Any]] | None = None) -> Report:
    return replace(sample_report(), releases=ROWS if rows is None else rows)


def test_json_report_carries_the_release_table() -> None:
    document = _report().to_json()
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(document)
    assert document["releases"] == ROWS
    assert report_from_json(document).releases == ROWS
    assert "releases" not in replace(sample_report(), releases=None).to_json()  # not a scan: no table


def test_schema_refuses_an_unknown_status() -> None:
    document = _report([_row("models/llm", "v1.0.0", _status("fine"), _status("none"))]).to_json()
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(document)


def test_markdown_lists_releases_needing_attention_first() -> None:
    text = markdown.render(_report())
    section = text[text.index("### Released versions (3)"):]
    assert "Signed: 1 failed, 1 not judged, 1 verified" in section
    assert section.index("v1.1.0") < section.index("v3.1.0") < section.index("v1.0.0")
    assert "❌ failed" in section and "✅ verified" in section and "⚠️ not judged" in section
    assert "<script>" not in section


def test_html_release_table_is_escaped_and_counted() -> None:
    document = html.render(_report())
    assert 'id="release-count">3<' in document
    assert document.count('<tr class="release"') == 3
    assert 'data-signed="failed" data-provenance="missing" data-sbom="none"' in document
    assert "<script>alert" not in document
    assert "ModelPack xyz-3-8B-Instruct 3.1" in document
    assert document.index('id="releases"') < document.index('id="inventory"')


def test_html_counts_rows_past_the_limit() -> None:
    many = [_row("models/llm", f"v1.0.{i}", _status("verified", "key k"), _status("none"))
            for i in range(ROW_LIMIT + 7)]
    document = html.render(_report(many))
    assert document.count('<tr class="release"') == ROW_LIMIT
    assert "7 more released versions are in the JSON report" in document


PROBE = """
(function(){
  var vw=document.documentElement.clientWidth, out={vw:vw, page:document.documentElement.scrollWidth, outside:0,
    rows:document.querySelectorAll('#release-table tr.release').length,
    count:document.getElementById('release-count').textContent};
  document.querySelectorAll('#release-table th, #release-table td').forEach(function(cell){
    var r=cell.getBoundingClientRect(); if(r.left<-0.5||r.right>vw+0.5) out.outside+=1; });
  var pre=document.createElement('pre'); pre.id='probe'; pre.textContent=JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless browser check needs /usr/bin/chromium")
def test_chromium_lays_the_release_table_out_within_the_window(tmp_path: Path) -> None:
    long_name = "models/" + "a-very-long-model-name-" * 6
    rows = [*ROWS, _row(long_name, "v9.9.9", _status("failed", "x" * 400), _status("missing"))]
    page = tmp_path / "report.html"
    page.write_text(html.render(_report(rows)).replace("</body>", f"<script>{PROBE}</script></body>"),
                    encoding="utf-8")
    run = subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000", "--dump-dom",
                          "--virtual-time-budget=3000", page.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True)
    probe = run.stdout[run.stdout.index('<pre id="probe">') + 16:]
    measured = json.loads(probe[:probe.index("</pre>")].replace("&quot;", '"'))
    assert measured["rows"] == 4 and measured["count"] == "4"
    assert measured["outside"] == 0  # no column pushed out of the window by a long name or detail
    assert measured["page"] <= measured["vw"]
