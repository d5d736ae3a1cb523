"""A part of the estate a scan could not read.

Why a record and not an exception: the audit fails closed, so a scan must finish and then say
exactly what it did not see (`complete: false`), instead of stopping at the first 500 or
silently dropping a repository. Sources, the history store and the shard merge all report
through this one record, and the report lists them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class ScanError:
    """`source` is the reader (e.g. "oci", "gcs", "history", "merge"), `target` names what was not read
    (e.g. "127.0.0.1:5000/models/llm", "bucket:artifacts.p.appspot.com"), `message` says why.
    Messages never contain credentials. Any of these makes the report incomplete."""

    source: str
    target: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.target}: {self.message}"
