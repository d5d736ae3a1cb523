"""Scan history: each audit stores a snapshot of tag -> digest per repository; the next compares.

The snapshots form one chain. Each is numbered (one more than the newest stored before it) and records the
sha256 of its predecessor's stored bytes, so a snapshot that goes missing, is replaced or edited, is not
shaped like a snapshot (`schemas/snapshot.schema.json`, checked on every read) or is dated in the future
is a finding of its own (history-integrity), never a silent gap. The newest is the highest number, not the
latest date: a clock that was wrong once cannot keep a snapshot "newest" forever.

Writes never overwrite: a snapshot's name is its number (`000000000042.json`), created exclusively (a hard
link to a fully written temporary file in a directory, `ifGenerationMatch=0` in a bucket), so a scan killed
mid-write leaves nothing half-written under a snapshot's name. Two scans racing for one number: the loser
reads the new newest snapshot and takes the next number, so the chain stays one line.

What the chain cannot show by itself: the newest snapshot rewritten consistently before the next scan reads
it, since nothing has recorded its digest yet. A bucket with a retention policy prevents that.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

from registry_guard.catalogue.history import is_unread
from registry_guard.catalogue.model import HistoryChain, Image, ResourceRef, SnapshotRecord

SNAPSHOT_FORMAT: Final = 2
_DIR: Final = "snapshots"
_CHAINED: Final = re.compile(r"^(\d{12})\.json$")
_LEGACY: Final = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{12}\.json$")  # format 1: time and a random suffix
# A snapshot of 100k images is ~20 MB; anything this big is not one.
MAX_SNAPSHOT_BYTES: Final = 256 * 1024 * 1024
# How many of the newest snapshots a scan reads looking for one it can use.
_SEARCH_LIMIT: Final = 10
# How many times a scan tries to claim the next number while other scans keep taking it.
_COMMIT_ATTEMPTS: Final = 8


class HistoryError(Exception):
    """The history could not be read or written; the one-line message names the location."""


@dataclass(frozen=True)
class SnapshotLink:
    """What a snapshot records about its predecessor: name, sha256 of its stored bytes, its number (None
    for a snapshot written before chaining)."""

    name: str
    digest: str
    sequence: int | None


@dataclass(frozen=True)
class Snapshot:
    taken_at: datetime
    images: tuple[Image, ...]
    # Repositories this snapshot did not read itself but carried forward from an earlier one.
    carried_forward: tuple[str, ...] = ()
    name: str = ""
    # The findings this scan reported (report JSON), for new / still-open / resolved next time.
    findings: tuple[dict[str, Any], ...] | None = None
    sequence: int | None = None  # None: a format-1 snapshot, written before snapshots were chained
    previous: SnapshotLink | None = None

    def to_json(self) -> dict[str, Any]:
        chained = self.sequence is not None
        return {
            "format": SNAPSHOT_FORMAT if chained else 1,
            **({"sequence": self.sequence} if chained else {}),
            "taken_at": self.taken_at.isoformat(),
            **({"previous": dataclasses.asdict(self.previous) if self.previous else None} if chained else {}),
            "carried_forward": list(self.carried_forward),
            "images": [
                {"repository": i.repository.name, "package": i.package, "digest": i.digest, "tags": list(i.tags)}
                for i in self.images
                if i.digest
            ],
            **({"findings": list(self.findings)} if self.findings is not None else {}),
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: Any, name: str) -> Snapshot:
        """A snapshot from its parsed JSON, validated against the snapshot schema first."""
        import fastjsonschema

        try:
            _validator()(data)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise HistoryError(f"{name}: not a valid history snapshot ({_one_line(exc)[:200]})") from None
        try:
            taken_at = datetime.fromisoformat(data["taken_at"])
        except ValueError:
            raise HistoryError(f"{name}: not a valid history snapshot (taken_at is not a date and time)") from None
        if taken_at.tzinfo is None:
            raise HistoryError(f"{name}: not a valid history snapshot (taken_at has no UTC offset)")
        previous = data.get("previous")
        findings = data.get("findings")
        return cls(
            taken_at=taken_at,
            images=tuple(Image(ResourceRef("repository", i["repository"]), i["package"], i["digest"], tuple(i["tags"]))
                         for i in data["images"]),
            carried_forward=tuple(data.get("carried_forward", ())),
            name=name,
            findings=tuple(findings) if findings is not None else None,
            sequence=data.get("sequence"),
            previous=SnapshotLink(previous["name"], previous["digest"], previous["sequence"]) if previous else None,
        )

    @classmethod
    def from_bytes(cls, data: bytes, name: str) -> Snapshot:
        try:
            document = json.loads(data)
        except RecursionError:
            raise HistoryError(f"{name}: not a valid history snapshot (nested too deeply)") from None
        except ValueError as exc:  # not UTF-8, not JSON
            raise HistoryError(f"{name}: not a valid history snapshot ({_one_line(exc)[:200]})") from None
        return cls.from_json(document, name)


@cache
def _validator() -> Callable[[Any], Any]:
    import fastjsonschema

    text = resources.files("audit").joinpath("schemas/snapshot.schema.json").read_text(encoding="utf-8")
    validate: Callable[[Any], Any] = fastjsonschema.compile(json.loads(text))
    return validate


def next_snapshot(current: Snapshot, previous: Snapshot | None, unread_repositories: Iterable[str]) -> Snapshot:
    """Carry forward what a partial scan could not read, so the next scan still compares against it."""
    unread = set(unread_repositories)
    if previous is None or not unread:
        return current
    kept = tuple(i for i in previous.images if is_unread(i.repository.name, i.package, unread))
    return dataclasses.replace(current, images=current.images + kept, carried_forward=tuple(sorted(unread)))


def snapshot_name(sequence: int) -> str:
    return f"{sequence:012d}.json"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class HistoryRead:
    """What a scan read from its history. `previous` is the newest usable snapshot (what to compare with);
    `chain` the facts history-integrity judges (None for an empty history); `head` the newest stored
    snapshot, which the next one chains to; `problem` says why no snapshot could be used although some
    are stored."""

    previous: Snapshot | None
    chain: HistoryChain | None
    head: SnapshotLink | None
    next_sequence: int
    problem: str | None = None


def _inspect(name: str, data: bytes) -> tuple[SnapshotRecord, Snapshot | None]:
    """The record of one stored snapshot, and the snapshot when it can be used."""
    digest = digest_of(data)
    named = _CHAINED.match(name)
    named_sequence = int(named.group(1)) if named else None
    try:
        snapshot = Snapshot.from_bytes(data, name)
    except HistoryError as exc:
        problem = str(exc).removeprefix(f"{name}: ")
        return SnapshotRecord(name, digest, named_sequence, problem=problem), None
    link = snapshot.previous
    record = SnapshotRecord(name, digest, snapshot.sequence, snapshot.taken_at,
                            link.name if link else None, link.digest if link else None)
    if snapshot.sequence != named_sequence:
        said = "written before chaining" if snapshot.sequence is None else f"number {snapshot.sequence}"
        problem = f"its name says {'number ' + str(named_sequence) if named else 'unnumbered'}, its content {said}"
        return dataclasses.replace(record, sequence=named_sequence, problem=problem), None
    return record, snapshot


class History(ABC):
    """The chain over a store that can list names, read one, and create one exclusively."""

    location: str

    @abstractmethod
    def names(self) -> list[str]:
        """Every entry of the snapshots folder; [] when there is none yet."""

    @abstractmethod
    def read_bytes(self, name: str) -> bytes: ...

    @abstractmethod
    def create(self, name: str, data: bytes) -> bool:
        """Store `data` under `name` unless that name exists (then False)."""

    @abstractmethod
    def where(self, name: str) -> str:
        """Where the snapshot `name` is, as a report says it."""

    def read(self) -> HistoryRead:
        names = self.names()
        chained = sorted(((int(m.group(1)), n) for n in names if (m := _CHAINED.match(n))), reverse=True)
        legacy = sorted((n for n in names if _LEGACY.match(n)), reverse=True)
        strays = tuple(sorted(n for n in names
                              if not n.startswith(".") and not _CHAINED.match(n) and not _LEGACY.match(n)))
        newest_first = [n for _, n in chained] + legacy
        next_sequence = (chained[0][0] + 1) if chained else 1
        sequences = tuple(sorted(s for s, _ in chained))
        if not newest_first:
            chain = HistoryChain(self.location, None, sequences=sequences, strays=strays) if strays else None
            return HistoryRead(None, chain, None, next_sequence)
        records: list[SnapshotRecord] = []
        previous = None
        for name in newest_first[:_SEARCH_LIMIT]:
            record, snapshot = _inspect(name, self.read_bytes(name))
            records.append(record)
            if snapshot is not None:
                previous = dataclasses.replace(snapshot, name=self.where(name))
                break
        latest = records[0]
        predecessor = None
        if latest.previous is not None and latest.previous in names:
            predecessor = next((r for r in records if r.name == latest.previous), None) \
                or _inspect(latest.previous, self.read_bytes(latest.previous))[0]
        passed_over = tuple(records[1:-1] if previous is not None else records[1:])
        chain = HistoryChain(self.location, latest, predecessor, sequences, passed_over, strays)
        problem = None if previous is not None else (
            f"none of the newest {len(records)} snapshot(s) can be used; moved and deleted versions cannot be judged")
        return HistoryRead(previous, chain, SnapshotLink(latest.name, latest.digest, latest.sequence),
                           next_sequence, problem)

    def _newest(self) -> tuple[SnapshotLink | None, int]:
        """The newest chained snapshot as the next one must link to it, and the next number."""
        chained = sorted((int(m.group(1)), n) for n in self.names() if (m := _CHAINED.match(n)))
        if not chained:
            return None, 1
        sequence, name = chained[-1]
        return SnapshotLink(name, digest_of(self.read_bytes(name)), sequence), sequence + 1

    def commit(self, snapshot: Snapshot, read: HistoryRead) -> str:
        """Store `snapshot` as the next of the chain after `read.head`; returns where it is."""
        head, sequence = read.head, read.next_sequence
        for _ in range(_COMMIT_ATTEMPTS):
            name = snapshot_name(sequence)
            numbered = dataclasses.replace(snapshot, sequence=sequence, previous=head)
            if self.create(name, numbered.to_bytes()):
                return self.where(name)
            # Another scan took this number first: follow its snapshot instead.
            head, sequence = self._newest()
        raise HistoryError(f"{self.location}: could not claim a snapshot number in {_COMMIT_ATTEMPTS} tries "
                           "(other scans kept taking them)")

    def latest(self) -> Snapshot | None:
        """The newest usable snapshot."""
        return self.read().previous

    def write(self, snapshot: Snapshot) -> str:
        """Store `snapshot` after the newest stored one."""
        return self.commit(snapshot, self.read())


class LocalHistory(History):
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.location = str(directory)
        self._folder = directory / _DIR

    def names(self) -> list[str]:
        try:
            with os.scandir(self._folder) as entries:
                return [e.name for e in entries if not e.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise HistoryError(f"{self._folder}: cannot read history ({exc.strerror or exc})") from None

    def read_bytes(self, name: str) -> bytes:
        path = self._folder / name
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_SNAPSHOT_BYTES + 1)
        except OSError as exc:
            raise HistoryError(f"{path}: cannot read history snapshot ({exc.strerror or exc})") from None
        if len(data) > MAX_SNAPSHOT_BYTES:
            raise HistoryError(f"{path}: larger than {MAX_SNAPSHOT_BYTES // 2**20} MiB, not a history snapshot")
        return data

    def create(self, name: str, data: bytes) -> bool:
        final = self._folder / name
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._folder, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                # link() fails when the name exists: readers see a whole snapshot under its name or nothing.
                os.link(tmp, final)
            except FileExistsError:
                return False
            finally:
                Path(tmp).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                folder = os.open(self._folder, os.O_RDONLY)
                try:
                    os.fsync(folder)
                finally:
                    os.close(folder)
        except OSError as exc:
            raise HistoryError(f"{self._folder}: cannot write history snapshot ({exc.strerror or exc})") from None
        return True

    def where(self, name: str) -> str:
        return str(self._folder / name)


class GcsHistory(History):
    """History in a bucket (`gs://bucket/prefix`), e.g. the audit job's report bucket."""

    def __init__(self, url: str, client: Any = None) -> None:
        bucket, _, prefix = url.removeprefix("gs://").partition("/")
        if not bucket:
            raise HistoryError(f"{url}: expected gs://BUCKET[/PREFIX]")
        self.location = url
        self._bucket_name = bucket
        self._prefix = f"{prefix.strip('/')}/{_DIR}/" if prefix.strip("/") else f"{_DIR}/"
        self._client = client
        self._sizes: dict[str, int] = {}

    def _bucket(self) -> Any:
        if self._client is None:
            from google.auth.exceptions import DefaultCredentialsError
            from google.cloud import storage  # type: ignore[attr-defined,unused-ignore]  # untyped package

            try:
                self._client = storage.Client()
            except DefaultCredentialsError as exc:
                raise HistoryError(f"{self.location}: no Google credentials ({_one_line(exc)})") from None
        return self._client.bucket(self._bucket_name)

    def names(self) -> list[str]:
        from google.api_core import exceptions

        try:
            blobs = list(self._bucket().list_blobs(prefix=self._prefix))
        except exceptions.GoogleAPICallError as exc:
            raise HistoryError(f"{self.location}: cannot read history ({_one_line(exc)})") from None
        self._sizes = {b.name[len(self._prefix):]: int(b.size or 0) for b in blobs}
        return [name for name in self._sizes if "/" not in name]

    def read_bytes(self, name: str) -> bytes:
        from google.api_core import exceptions

        if self._sizes.get(name, 0) > MAX_SNAPSHOT_BYTES:
            raise HistoryError(f"{self.where(name)}: larger than {MAX_SNAPSHOT_BYTES // 2**20} MiB, "
                               "not a history snapshot")
        try:
            data: bytes = self._bucket().blob(self._prefix + name).download_as_bytes()
        except exceptions.GoogleAPICallError as exc:
            raise HistoryError(f"{self.where(name)}: cannot read history snapshot ({_one_line(exc)})") from None
        return data

    def create(self, name: str, data: bytes) -> bool:
        from google.api_core import exceptions

        try:
            # ifGenerationMatch=0: create only, never replace another scan's snapshot.
            self._bucket().blob(self._prefix + name).upload_from_string(
                data, content_type="application/json", if_generation_match=0)
        except exceptions.PreconditionFailed:
            return False
        except exceptions.GoogleAPICallError as exc:
            raise HistoryError(f"{self.location}: cannot write history ({_one_line(exc)})") from None
        return True

    def where(self, name: str) -> str:
        return f"gs://{self._bucket_name}/{self._prefix}{name}"


def open_history(location: str) -> History:
    return GcsHistory(location) if location.startswith("gs://") else LocalHistory(Path(location))


def _one_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
