"""What a live source is to the scan: built from the scan options it needs, it reads once and says what it
read, what it could not read, and how the report names it.

Why one record for every source: the scan treats them alike (time the read, merge the state, keep the
errors, remember what was not read completely for the history comparison, describe the target), so each
source says those things in the same words instead of the scan knowing each source's own result type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from registry_guard.catalogue.model import RegistryState

from audit.errors import ScanError


@dataclass(frozen=True)
class ReportTarget:
    """How a source appears in the report's `target`: `value` under `key`, or, for a kind of source a scan
    may read several of (buckets, registries), one item of the list under `key`."""

    key: str
    value: Any
    listed: bool

    def add_to(self, target: dict[str, Any]) -> None:
        if self.listed:
            target.setdefault(self.key, []).append(self.value)
        else:
            target[self.key] = self.value


@dataclass(frozen=True)
class SourceRead:
    """What one read of one source saw. `errors` name what was not read; `unread` names the targets not read
    completely, whose images may not be called deleted; `requests` is None where the client library does
    not count them."""

    state: RegistryState
    errors: tuple[ScanError, ...]
    unread: frozenset[str]
    target: ReportTarget
    requests: int | None = None


class Source(Protocol):
    """A live source. While it reads, it reports its progress through `audit.progress.work()`:
    `found("repositories" | "tags" | "buckets", n)` when it learns of work, `done(kind, n)` when it has read it
    (or given up on it), so the progress display moves with the work rather than once per source."""

    @property
    def key(self) -> str:
        """This read's entry in the report's `timings`, e.g. "artifact_registry", "gcs:BUCKET", "oci:URL"."""
        ...

    @property
    def description(self) -> str:
        """What is read, for progress: "Artifact Registry P/L", "OCI registry URL"."""
        ...

    def read(self) -> SourceRead:
        """Read everything; never raises for what the service does wrong (that is in `errors`)."""
        ...
