"""Waivers mean the same at deploy time and at night: which findings they cover, and until when."""

from __future__ import annotations

import re
from datetime import date

import pytest
from registry_guard.catalogue.findings import Finding
from registry_guard.catalogue.settings import SettingsError
from registry_guard.catalogue.waivers import Waiver, waivers_of, weigh

FINDING = Finding("no-public-access", "repository:projects/p/locations/l/repositories/public-demo", "allUsers ...")
DEMO = Waiver("no-public-access", "repository:*/repositories/public-*", "demo", "sec@example.com", date(2027, 3, 31))


def test_a_waiver_holds_through_its_last_day() -> None:
    assert weigh(FINDING, [DEMO], date(2027, 3, 31)).accepted_by == DEMO
    verdict = weigh(FINDING, [DEMO], date(2027, 4, 1))
    assert verdict.accepted_by is None and verdict.expired == DEMO


def test_a_waiver_covers_its_rule_and_glob_only() -> None:
    other_rule = Finding("no-broad-admin", FINDING.resource, "...")
    other_repo = Finding("no-public-access", "repository:projects/p/locations/l/repositories/models", "...")
    assert weigh(other_rule, [DEMO], date(2026, 1, 1)).accepted_by is None
    assert weigh(other_repo, [DEMO], date(2026, 1, 1)) == weigh(other_repo, [], date(2026, 1, 1))


def test_the_longest_holding_waiver_is_named() -> None:
    later = Waiver(DEMO.rule_id, "repository:*", "wider", "sec@example.com", date(2028, 1, 1))
    assert weigh(FINDING, [DEMO, later], date(2026, 1, 1)).accepted_by == later


@pytest.mark.parametrize(("entries", "problem"), [
    ("x", "waivers: expected a list"),
    ([7], "waivers[0]: expected an object"),
    ([{"resource": "r", "justification": "j", "owner": ""}], "waivers[0]: owner, expires required"),
    ([{"resource": "r", "justification": "j", "owner": "o", "expires": "31/03/2027"}],
     "waivers[0]: expires must be a date (YYYY-MM-DD)"),
])
def test_a_malformed_waiver_is_named(entries: object, problem: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(problem)):
        waivers_of("no-public-access", entries)
