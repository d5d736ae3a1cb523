"""Report formats. Each renders the one `Report`; none re-judges anything."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from ..report import Report
from . import csv_report, html, json_report, junit, markdown, oscal, sarif

# name -> (file suffix, renderer)
FORMATS: dict[str, tuple[str, Callable[[Report], str]]] = {
    module.NAME: (module.SUFFIX, module.render)
    for module in (json_report, markdown, html, sarif, junit, csv_report, oscal)
}


# Formats that can write straight to the file: the JSON of 100k images would otherwise exist twice in
# memory (the dict and the whole string) at the peak of the scan.
STREAMING: dict[str, Callable[[Report, TextIO], None]] = {json_report.NAME: json_report.write}


def write_reports(report: Report, directory: Path, formats: Sequence[str]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"registry-guard-{report.kind}"
    written = []
    for name in dict.fromkeys(formats):
        suffix, render = FORMATS[name]
        path = directory / f"{stem}{suffix}"
        tmp = path.with_name(f".{path.name}.tmp")
        # newline="" so CSV's \r\n row ends are written as the csv module made them.
        with tmp.open("w", encoding="utf-8", newline="") as out:
            if name in STREAMING:
                STREAMING[name](report, out)
            else:
                out.write(render(report))
        tmp.replace(path)
        written.append(path)
    return written
