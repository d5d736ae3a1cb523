"""history-integrity: the chain of snapshots an earlier scan's inventory was read from."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from registry_guard.catalogue.model import HistoryChain, RegistryState, SnapshotRecord
from registry_guard.catalogue.rule import Inputs, Stage

from audit.offline_check.analyzer import PolicyPackClient

from .cases import PASSES, CannotJudge, Case, Finds, Live
from .live_state import NOW

ONE = SnapshotRecord("000000000001.json", "sha256:" + "1" * 64, 1, NOW - timedelta(days=2))
TWO = SnapshotRecord("000000000002.json", "sha256:" + "2" * 64, 2, NOW - timedelta(days=1),
                     previous=ONE.name, previous_digest=ONE.digest)


def history(latest: SnapshotRecord | None = TWO, predecessor: SnapshotRecord | None = ONE,
            sequences: tuple[int, ...] = (1, 2), **more: object) -> Inputs:
    chain = HistoryChain("gs://audit/nightly", latest, predecessor, sequences, **more)  # type: ignore[arg-type]
    return Inputs(RegistryState(observed_at=NOW), previous=RegistryState(history=chain))


CASES: list[Case] = [
    Live(
        name="each snapshot follows its predecessor, unchanged",
        inputs=history(),
        stage=Stage.HISTORY,
        expect=PASSES,
    ),
    Live(
        name="the first snapshot of a history has no predecessor",
        inputs=history(ONE, None, (1,)),
        stage=Stage.HISTORY,
        expect=PASSES,
    ),
    Live(
        name="older snapshots removed by retention are no gap",
        inputs=history(sequences=(7, 8), latest=dataclasses.replace(TWO, sequence=8),
                       predecessor=dataclasses.replace(ONE, sequence=7)),
        stage=Stage.HISTORY,
        expect=PASSES,
    ),
    Live(
        name="the predecessor was edited after its successor recorded it",
        inputs=history(predecessor=dataclasses.replace(ONE, digest="sha256:" + "e" * 64)),
        stage=Stage.HISTORY,
        expect=Finds("snapshot 000000000001.json was replaced or edited after 000000000002.json recorded it"),
    ),
    Live(
        name="the predecessor is missing",
        inputs=history(predecessor=None, sequences=(2,)),
        stage=Stage.HISTORY,
        expect=Finds("000000000001.json, the predecessor snapshot 000000000002.json records, is missing"),
    ),
    Live(
        name="a snapshot in the middle is missing",
        inputs=history(sequences=(1, 2, 5, 6)),
        stage=Stage.HISTORY,
        expect=Finds("snapshot number 3 to 4 is missing from the history"),
    ),
    Live(
        name="the newest snapshot is dated in the future",
        inputs=history(latest=dataclasses.replace(TWO, taken_at=NOW + timedelta(days=30))),
        stage=Stage.HISTORY,
        expect=Finds("after this scan's clock"),
    ),
    Live(
        name="a few minutes of clock skew are not a finding",
        inputs=history(latest=dataclasses.replace(TWO, taken_at=NOW + timedelta(minutes=3))),
        stage=Stage.HISTORY,
        expect=PASSES,
    ),
    Live(
        name="time went backwards between two snapshots",
        inputs=history(predecessor=dataclasses.replace(ONE, taken_at=NOW + timedelta(days=300))),
        stage=Stage.HISTORY,
        expect=Finds("before its predecessor 000000000001.json"),
    ),
    Live(
        name="the newest snapshot follows a snapshot that is not its number minus one",
        inputs=history(latest=dataclasses.replace(TWO, sequence=4), sequences=(1, 4)),
        stage=Stage.HISTORY,
        expect=Finds("is number 4 but follows number 1"),
    ),
    Live(
        name="a numbered snapshot that records no predecessor cut the chain",
        inputs=history(latest=dataclasses.replace(TWO, previous=None, previous_digest=None)),
        stage=Stage.HISTORY,
        expect=Finds("records no predecessor"),
    ),
    Live(
        name="the newest snapshot is not shaped like a snapshot",
        inputs=history(latest=SnapshotRecord("000000000003.json", "sha256:" + "3" * 64, 3,
                                             problem="not a valid history snapshot (data.images must be array)"),
                       sequences=(1, 2, 3)),
        stage=Stage.HISTORY,
        expect=Finds("snapshot 000000000003.json cannot be used: not a valid history snapshot"),
    ),
    Live(
        name="a snapshot passed over on the way to a usable one",
        inputs=history(passed_over=(SnapshotRecord("000000000003.json", "sha256:" + "3" * 64, 3,
                                                   problem="its name says number 3, its content number 9"),),
                       sequences=(1, 2, 3)),
        stage=Stage.HISTORY,
        expect=Finds("its name says number 3, its content number 9"),
    ),
    Live(
        name="a file in the history that is no snapshot",
        inputs=history(strays=("notes.json",)),
        stage=Stage.HISTORY,
        expect=Finds("notes.json in the history is not a snapshot the audit wrote"),
    ),
    Live(
        name="a history holding only files that are no snapshots",
        inputs=history(latest=None, predecessor=None, sequences=(), strays=("000000000001.json.bak",)),
        stage=Stage.HISTORY,
        expect=Finds("000000000001.json.bak in the history is not a snapshot"),
    ),
    Live(
        name="the newest snapshot was written before snapshots were chained",
        inputs=history(latest=SnapshotRecord("20260101T000000000000Z-0123456789ab.json", "sha256:" + "0" * 64,
                                             None, NOW - timedelta(days=1)), predecessor=None, sequences=()),
        stage=Stage.HISTORY,
        expect=CannotJudge("was written before snapshots were chained"),
    ),
    Live(
        name="a state that did not come from a stored history",
        inputs=Inputs(RegistryState(observed_at=NOW), previous=RegistryState()),
        stage=Stage.HISTORY,
        expect=PASSES,
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)
