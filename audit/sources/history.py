"""Scan history: each audit stores a snapshot of tag -> digest per repository; the next compares.

Writes never overwrite: every snapshot gets its own name (time + random suffix), written to a
temporary file and renamed (local) or created with `ifGenerationMatch=0` (GCS), so two concurrent
scans both keep theirs and a scan killed mid-write leaves the previous snapshot intact.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from registry_guard.catalogue.history import is_unread
from registry_guard.catalogue.model import Image, ResourceRef

SNAPSHOT_FORMAT = 1
_DIR = "snapshots"


class HistoryError(Exception):
    """The history could not be read or written; the message names the location."""


@dataclass(frozen=True)
class Snapshot:
    taken_at: datetime
    images: tuple[Image, ...]
    # Repositories this snapshot did not read itself but carried forward from an earlier one.
    carried_forward: tuple[str, ...] = ()
    name: str = ""
    # The findings this scan reported (report JSON), for new / still-open / resolved next time.
    findings: tuple[dict[str, Any], ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": SNAPSHOT_FORMAT,
            "taken_at": self.taken_at.isoformat(),
            "carried_forward": list(self.carried_forward),
            "images": [
                {"repository": i.repository.name, "package": i.package, "digest": i.digest, "tags": list(i.tags)}
                for i in self.images
                if i.digest
            ],
            **({"findings": list(self.findings)} if self.findings is not None else {}),
        }

    @classmethod
    def from_json(cls, data: Any, name: str) -> Snapshot:
        try:
            if data.get("format") != SNAPSHOT_FORMAT:
                raise HistoryError(f"{name}: unsupported snapshot format {data.get('format')!r}")
            images = tuple(
                Image(ResourceRef("repository", str(i["repository"])), str(i["package"]), str(i["digest"]),
                      tuple(str(t) for t in i["tags"]))
                for i in data["images"]
            )
            findings = data.get("findings")
            if findings is not None and not (isinstance(findings, list) and all(
                    isinstance(f, dict) and isinstance(f.get("fingerprint"), str) for f in findings)):
                raise HistoryError(f"{name}: findings are malformed")
            return cls(datetime.fromisoformat(data["taken_at"]), images,
                       tuple(data.get("carried_forward", ())), name,
                       tuple(findings) if findings is not None else None)
        except HistoryError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise HistoryError(f"{name}: not a valid history snapshot ({type(exc).__name__}: {exc})") from None


def next_snapshot(current: Snapshot, previous: Snapshot | None, unread_repositories: Iterable[str]) -> Snapshot:
    """Carry forward what a partial scan could not read, so the next scan still compares against it."""
    unread = set(unread_repositories)
    if previous is None or not unread:
        return current
    kept = tuple(i for i in previous.images if is_unread(i.repository.name, i.package, unread))
    return Snapshot(current.taken_at, current.images + kept, tuple(sorted(unread)), findings=current.findings)


def _snapshot_name(taken_at: datetime) -> str:
    return f"{taken_at.strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:12]}.json"


class HistoryStore(Protocol):
    location: str

    def latest(self) -> Snapshot | None: ...

    def write(self, snapshot: Snapshot) -> str: ...


class LocalHistory:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.location = str(directory)

    def latest(self) -> Snapshot | None:
        folder = self.directory / _DIR
        if not folder.is_dir():
            return None
        names = sorted(p.name for p in folder.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
        if not names:
            return None
        path = folder / names[-1]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise HistoryError(f"{path}: unreadable history snapshot ({exc})") from None
        return Snapshot.from_json(data, str(path))

    def write(self, snapshot: Snapshot) -> str:
        folder = self.directory / _DIR
        try:
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / _snapshot_name(snapshot.taken_at)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(snapshot.to_json(), handle)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, final)  # atomic on POSIX: readers see all of it or none
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise HistoryError(f"{folder}: cannot write history snapshot ({exc.strerror or exc})") from None
        return str(final)


class GcsHistory:
    """History in a bucket (`gs://bucket/prefix`), e.g. the audit job's report bucket."""

    def __init__(self, url: str, client: Any = None) -> None:
        bucket, _, prefix = url.removeprefix("gs://").partition("/")
        if not bucket:
            raise HistoryError(f"{url}: expected gs://BUCKET[/PREFIX]")
        self.location = url
        self._bucket_name = bucket
        self._prefix = f"{prefix.strip('/')}/{_DIR}/" if prefix.strip("/") else f"{_DIR}/"
        self._client = client

    def _bucket(self) -> Any:
        if self._client is None:
            from google.cloud import storage  # type: ignore[attr-defined,unused-ignore]  # untyped package

            self._client = storage.Client()
        return self._client.bucket(self._bucket_name)

    def latest(self) -> Snapshot | None:
        from google.api_core import exceptions

        try:
            blobs = [b for b in self._bucket().list_blobs(prefix=self._prefix) if b.name.endswith(".json")]
            if not blobs:
                return None
            newest = max(blobs, key=lambda b: b.name)
            data = json.loads(newest.download_as_bytes())
        except (exceptions.GoogleAPICallError, ValueError) as exc:
            raise HistoryError(f"{self.location}: cannot read history ({_one_line(exc)})") from None
        return Snapshot.from_json(data, f"gs://{self._bucket_name}/{newest.name}")

    def write(self, snapshot: Snapshot) -> str:
        from google.api_core import exceptions

        name = self._prefix + _snapshot_name(snapshot.taken_at)
        try:
            # ifGenerationMatch=0: create only, never replace another scan's snapshot.
            self._bucket().blob(name).upload_from_string(
                json.dumps(snapshot.to_json()), content_type="application/json", if_generation_match=0
            )
        except exceptions.GoogleAPICallError as exc:
            raise HistoryError(f"{self.location}: cannot write history ({_one_line(exc)})") from None
        return f"gs://{self._bucket_name}/{name}"


def open_history(location: str) -> HistoryStore:
    return GcsHistory(location) if location.startswith("gs://") else LocalHistory(Path(location))


def _one_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
