"""Waivers: accepted risks, the same at deploy time and at night.

A waiver names a rule, a resource glob (matched against a finding's resource, e.g.
`repository:projects/p/locations/l/repositories/public-*`), a justification, an owner and the last day it
holds. While it holds, the findings it covers are still reported, marked accepted, and do not block or fail;
once it has expired it covers nothing and says so.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from .findings import Finding
from .settings import SettingsError

# One waiver in a policy's configuration (the policy names the rule). Dates are ISO days: YYYY-MM-DD.
WAIVER_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["resource", "justification", "owner", "expires"],
    "additionalProperties": False,
    "properties": {
        "resource": {"type": "string", "minLength": 1, "description": "Glob of the resources it covers, e.g. "
                     "repository:projects/p/locations/l/repositories/demo-*"},
        "justification": {"type": "string", "minLength": 1, "description": "Why the risk is accepted."},
        "owner": {"type": "string", "minLength": 1, "description": "Who answers for it."},
        "expires": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "Last day it holds."},
    },
}
WAIVERS_SETTING: Final[dict[str, Any]] = {
    "type": "array",
    "items": WAIVER_SCHEMA,
    "default": [],
    "description": "Accepted risks for this rule: findings on matching resources are reported without blocking "
    "until the waiver expires.",
}


@dataclass(frozen=True)
class Waiver:
    rule_id: str
    resource: str  # a glob
    justification: str
    owner: str
    expires: date  # the last day it holds

    def holds_on(self, today: date) -> bool:
        return today <= self.expires

    def covers(self, rule_id: str, resource: str) -> bool:
        return rule_id == self.rule_id and fnmatch.fnmatchcase(resource, self.resource)


def waivers_of(rule_id: str, entries: object) -> tuple[Waiver, ...]:
    """A rule's waivers from its policy configuration (`waivers`, WAIVER_SCHEMA). Raises `SettingsError`
    naming the entry when one is malformed (the engine validates the schema, a direct caller may not)."""
    if entries is None:
        return ()
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise SettingsError("waivers: expected a list")
    waivers: list[Waiver] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise SettingsError(f"waivers[{index}]: expected an object with resource, justification, owner, expires")
        values = {key: entry.get(key) for key in ("resource", "justification", "owner", "expires")}
        missing = [key for key, value in values.items() if not isinstance(value, str) or not value.strip()]
        if missing:
            raise SettingsError(f"waivers[{index}]: {', '.join(missing)} required (non-empty text)")
        try:
            expires = date.fromisoformat(str(values["expires"]))
        except ValueError:
            raise SettingsError(f"waivers[{index}]: expires must be a date (YYYY-MM-DD)") from None
        waivers.append(Waiver(rule_id, str(values["resource"]).strip(), str(values["justification"]).strip(),
                              str(values["owner"]).strip(), expires))
    return tuple(waivers)


@dataclass(frozen=True)
class Verdict:
    """What the waivers make of one finding: `accepted_by` holds it (it does not block), or `expired` would
    have (it blocks, and the message says the waiver ran out)."""

    finding: Finding
    accepted_by: Waiver | None = None
    expired: Waiver | None = None


def weigh(finding: Finding, waivers: Sequence[Waiver], today: date) -> Verdict:
    covering = [w for w in waivers if w.covers(finding.rule_id, finding.resource)]
    holding = [w for w in covering if w.holds_on(today)]
    if holding:
        return Verdict(finding, accepted_by=max(holding, key=lambda w: w.expires))
    if covering:
        return Verdict(finding, expired=max(covering, key=lambda w: w.expires))
    return Verdict(finding)
