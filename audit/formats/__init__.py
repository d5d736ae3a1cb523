"""Report formats. Each renders the one `Report`; none re-judges anything."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..report import Report
from . import json_report

# name -> (file suffix, renderer)
FORMATS: dict[str, tuple[str, Callable[[Report], str]]] = {
    json_report.NAME: (json_report.SUFFIX, json_report.render),
}


def write_reports(report: Report, directory: Path, formats: Sequence[str]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"registry-guard-{report.kind}"
    written = []
    for name in dict.fromkeys(formats):
        suffix, render = FORMATS[name]
        path = directory / f"{stem}{suffix}"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(render(report), encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
