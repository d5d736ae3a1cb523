"""The scan history is whole: no snapshot missing, replaced, edited, misnamed or dated in the future."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Final

from ..findings import Finding, Undetermined
from ..model import HistoryChain, SnapshotRecord, Subject
from ..rule import Inputs, Rule, Stage, declare

# How far two clocks may disagree before a snapshot's time is called wrong: scans on different machines
# (a laptop, the Cloud Run job) never agree to the second.
CLOCK_SKEW: Final = timedelta(minutes=5)


def _where(chain: HistoryChain, name: str | None = None) -> str:
    return f"history:{chain.location}" + (f"/{name}" if name else "")


def _gaps(sequences: tuple[int, ...]) -> Iterator[tuple[int, int]]:
    """(first, last) of each run of sequence numbers missing between the oldest and the newest kept. Older
    snapshots may have been removed by retention, so nothing before the oldest kept one counts."""
    ordered = sorted(set(sequences))
    for before, after in itertools.pairwise(ordered):
        if after - before > 1:
            yield before + 1, after - 1


def _time(value: datetime | None) -> str:
    return value.isoformat() if value else "an unknown time"


def _link(rule: Rule, chain: HistoryChain, latest: SnapshotRecord) -> Iterator[Finding]:
    """The newest snapshot's link to its predecessor: present, unchanged, consecutive, in time order."""
    predecessor = chain.predecessor
    where = _where(chain, latest.name)
    if latest.previous is None:
        if latest.sequence is not None and latest.sequence > 1:
            yield rule.finding(where, f"snapshot {latest.name} (number {latest.sequence}) records no predecessor: "
                               "the chain was cut", {"change": "unchained", "snapshot": latest.name})
        return
    evidence: dict[str, Any] = {"snapshot": latest.name, "predecessor": latest.previous}
    if predecessor is None:
        yield rule.finding(where, f"{latest.previous}, the predecessor snapshot {latest.name} records, is missing "
                           "from the history", {**evidence, "change": "missing"})
        return
    if predecessor.digest != latest.previous_digest:
        yield rule.finding(
            _where(chain, predecessor.name),
            f"snapshot {predecessor.name} was replaced or edited after {latest.name} recorded it: its content "
            f"is {predecessor.digest}, {latest.name} recorded {latest.previous_digest}",
            {**evidence, "change": "edited", "digest": predecessor.digest, "recorded_digest": latest.previous_digest})
    if predecessor.sequence is not None and latest.sequence is not None \
            and latest.sequence != predecessor.sequence + 1:
        yield rule.finding(where, f"snapshot {latest.name} is number {latest.sequence} but follows number "
                           f"{predecessor.sequence}", {**evidence, "change": "out-of-sequence"})
    if predecessor.taken_at and latest.taken_at and predecessor.taken_at - latest.taken_at > CLOCK_SKEW:
        yield rule.finding(
            where, f"snapshot {latest.name} is dated {_time(latest.taken_at)}, before its predecessor "
            f"{predecessor.name} ({_time(predecessor.taken_at)}): a clock went backwards or a snapshot was "
            "forged", {**evidence, "change": "time-went-backwards"})


@declare(
    id="history-integrity",
    title="The scan history is intact",
    severity="high",
    stages=(Stage.HISTORY,),
    subjects=(Subject.HISTORY,),
    description="Every scan's snapshot records the digest of the one before it, in one numbered sequence. A "
    "snapshot that is missing, replaced or edited, misnamed, not shaped like a snapshot, out of sequence or "
    "dated in the future means the history that moved and deleted versions are judged against cannot be "
    "trusted.",
    remediation=(
        "Find who changed the history (the bucket's Data Access audit logs, or the file system's) and restore "
        "the snapshots from the report bucket's retained copies.",
        "Keep the history in a bucket with a retention policy, so snapshots cannot be replaced or deleted.",
        "A snapshot dated in the future comes from a machine whose clock was wrong: fix the clock; the next "
        "scan supersedes the snapshot, since snapshots are ordered by number, not by time.",
    ),
    url="https://cloud.google.com/storage/docs/bucket-lock",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    assert inputs.previous is not None  # the judge runs HISTORY rules only with a previous scan
    chain = inputs.previous.history
    if chain is None:
        return  # the earlier state did not come from a stored history
    latest = chain.latest
    for name in chain.strays:
        yield rule.finding(_where(chain, name), f"{name} in the history is not a snapshot the audit wrote (a "
                           "renamed, copied or foreign file)", {"change": "stray", "snapshot": name})
    for first, last in _gaps(chain.sequences):
        numbers = str(first) if first == last else f"{first} to {last}"
        yield rule.finding(_where(chain), f"snapshot number {numbers} is missing from the history",
                           {"change": "missing", "snapshot": f"number {numbers}"})
    for record in (*([latest] if latest else []), *chain.passed_over):
        if record.problem:
            yield rule.finding(_where(chain, record.name), f"snapshot {record.name} cannot be used: "
                               f"{record.problem}", {"change": "unusable", "snapshot": record.name})
    if latest is None:
        return
    if latest.sequence is None and not latest.problem:
        yield rule.undetermined(_where(chain, latest.name), f"snapshot {latest.name} was written before snapshots "
                                "were chained, so nothing can say whether the history before it is whole")
    if not latest.problem:
        yield from _link(rule, chain, latest)
    now = inputs.state.observed_at
    if now is not None and latest.taken_at is not None and latest.taken_at - now > CLOCK_SKEW:
        yield rule.finding(
            _where(chain, latest.name),
            f"snapshot {latest.name} is dated {_time(latest.taken_at)}, after this scan's clock "
            f"({_time(now)}): one of the clocks is wrong, or the snapshot was forged",
            {"change": "future-dated", "snapshot": latest.name, "taken_at": _time(latest.taken_at)})
