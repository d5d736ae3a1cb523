"""How much one registry scan may read and how long it may take, whatever the registry sends.

A registry is outside input: it can send a gzip bomb, tag pages without end, pages dripped just under the
request timeout, or ask to be retried after an hour. Each limit below turns that into a read error naming
the limit (the report is then incomplete, exit 3) instead of memory or time without bound. The defaults
are far above what a real registry needs (a Google `tags/list` page with 100,000 images is ~30 MB; a
50 x 100 registry is 5,000 names and a few MB); tests pass small ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Final

MIB: Final = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    # One response body, after decompression (a 2 MB gzip body can inflate to 2 GB).
    response_bytes: int = 32 * MIB
    # Pages of one listing: the catalog, or one repository's tags/list.
    listing_pages: int = 10_000
    # Body bytes of one repository's tag listing (all its pages), and of the whole scan.
    repository_bytes: int = 64 * MIB
    scan_bytes: int = 1024 * MIB
    # Repository and tag names kept for the inventory over the whole scan (each costs memory after parsing).
    scan_names: int = 2_000_000
    # Time for one listing's pages (each request is also bounded by the scan's --timeout), and for the scan.
    listing_seconds: float = 1800.0
    scan_seconds: float = 6 * 3600.0
    # The longest Retry-After the scan waits; a registry asking for more is a read error, not a wait.
    retry_after_seconds: float = 60.0
    # One layer of a signature or attestation (a signed payload, DSSE envelope or Sigstore bundle: a few KB;
    # SLSA provenance, tens of KB), and the signatures and attestations read per released image.
    artifact_bytes: int = 4 * MIB
    artifacts_per_image: int = 32

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"limit {item.name} must be a finite number > 0, not {value!r}")


    def with_overrides(self, items: Sequence[str]) -> Limits:
        """These limits with NAME=VALUE items (`--oci-limit`) applied; ValueError naming a bad one."""
        kinds = {item.name: item.type for item in fields(self)}
        changes: dict[str, Any] = {}
        for item in items:
            name, sep, text = item.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in kinds:
                raise ValueError(f"--oci-limit {item[:80]!r}: give NAME=VALUE, NAME one of {', '.join(kinds)}")
            try:
                changes[name] = int(text) if kinds[name] in ("int", int) else float(text)
            except ValueError:
                raise ValueError(f"--oci-limit {name}: {text[:40]!r} is not a number") from None
        return replace(self, **changes)  # __post_init__ refuses what is not > 0 and finite


def size_text(count: int) -> str:
    """A byte count as people read it in an error message."""
    return f"{count / MIB:g} MiB" if count >= MIB and count % (MIB // 16) == 0 else f"{count} bytes"


__all__ = ["MIB", "Limits", "size_text"]
