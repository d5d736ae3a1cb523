"""Waivers: accepted risks, each with a justification, an owner and an expiry date.

A waived finding stays in every report, marked waived with its justification; it just no longer
fails the exit code. An expired waiver waives nothing, and it and any unused waiver are reported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from registry_guard.catalogue.rule import all_rules
from registry_guard.catalogue.waivers import Waiver as AcceptedRisk

from .input_files import load_document
from .report import ReportFinding, Waiver

_KEYS = {"rule", "resource", "justification", "owner", "expires"}


class WaiverError(ValueError):
    """The waiver file is unusable; the one-line message names the entry and the problem."""


def load_waivers(path: Path) -> tuple[Waiver, ...]:
    raw = load_document(path, "yaml", WaiverError)
    entries = raw.get("waivers") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise WaiverError(f"{path}: expected a top-level `waivers:` list")
    return tuple(_parse_entry(path, i, entry) for i, entry in enumerate(entries))


def _parse_entry(path: Path, index: int, entry: Any) -> Waiver:
    where = f"{path}: waivers[{index}]"
    if not isinstance(entry, dict):
        raise WaiverError(f"{where}: expected a mapping with {', '.join(sorted(_KEYS))}")
    unknown = set(entry) - _KEYS
    if unknown:
        names = sorted(str(k) if str(k).isprintable() else repr(k) for k in unknown)
        raise WaiverError(f"{where}: unknown key(s) {', '.join(names)}; allowed: {', '.join(sorted(_KEYS))}")
    for key in ("rule", "resource", "justification", "owner"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise WaiverError(f"{where}: `{key}` is required and must be non-empty text")
    if entry["rule"] not in all_rules():
        raise WaiverError(f"{where}: unknown rule {entry['rule']!r}")
    expires = entry.get("expires")
    if isinstance(expires, datetime):  # YAML reads `2030-01-01 10:00:00` as a time; a waiver ends on a day
        raise WaiverError(f"{where}: `expires` must be a date without a time (YYYY-MM-DD)")
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            raise WaiverError(f"{where}: `expires` must be a date (YYYY-MM-DD)") from None
    if not isinstance(expires, date):
        raise WaiverError(f"{where}: `expires` is required (a date, YYYY-MM-DD)")
    return Waiver(entry["rule"], entry["resource"].strip(), entry["justification"].strip(),
                  entry["owner"].strip(), expires.isoformat())


def apply_waivers(findings: Iterable[ReportFinding], waivers: Iterable[Waiver], today: date) -> \
        tuple[tuple[ReportFinding, ...], tuple[Waiver, ...]]:
    """Mark findings covered by an active waiver; give each waiver its status for this run."""
    waivers = list(waivers)
    # The catalogue says what a waiver covers and until when, as it does for the pack at deploy time.
    shared = [AcceptedRisk(w.rule_id, w.resource, w.justification, w.owner, date.fromisoformat(w.expires))
              for w in waivers]
    active = [w.holds_on(today) for w in shared]
    matched = [0] * len(waivers)
    out = []
    for finding in findings:
        for i, waiver in enumerate(waivers):
            if active[i] and shared[i].covers(finding.rule_id, finding.resource):
                matched[i] += 1
                finding = dataclasses.replace(finding, waiver=dataclasses.replace(waiver, status="active"))
                break
        out.append(finding)
    statuses = tuple(
        dataclasses.replace(w, status="expired" if not active[i] else ("unused" if not matched[i] else "active"),
                            matched=matched[i])
        for i, w in enumerate(waivers)
    )
    return tuple(out), statuses
