"""The release table a report carries: per released version (an image with a version tag), whether it is signed,
carries provenance and has an SBOM (the catalogue's `release_status`, judged as the release rules judge), with the
version and model the image declares. Every format renders it from the JSON report."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from registry_guard.catalogue.model import RegistryState
from registry_guard.catalogue.release_status import ReleaseStatus, Status, release_statuses
from registry_guard.catalogue.settings import Settings

# The order the formats list releases in: what needs attention first.
STATE_ORDER = ("failed", "missing", "not judged", "none", "present", "verified")


def _status(status: Status) -> dict[str, str]:
    return {"status": status.state, "detail": status.detail}


def _row(release: ReleaseStatus) -> dict[str, Any]:
    image, metadata = release.image, release.image.metadata
    model = metadata.model if metadata is not None else None
    return {
        "repository": image.repository.name, "package": image.package, "digest": image.digest,
        "tags": list(release.tags),
        "signed": _status(release.signed), "provenance": _status(release.provenance), "sbom": _status(release.sbom),
        "version_label": metadata.declared("version") if metadata is not None else None,
        "model": None if model is None else {"packaging": model.packaging, "name": model.name,
                                             "version": model.version},
    }


def release_table(state: RegistryState, settings: Settings,
                  unread: Collection[str] = frozenset()) -> list[dict[str, Any]]:
    return [_row(r) for r in sorted(release_statuses(state, settings, unread),
                                    key=lambda r: (r.image.repository.name, r.image.package, r.tags))]


def attention(row: Any) -> tuple[int, str, str, str]:
    """Sort key for a row of the JSON table: the worst of its three statuses first, then by name."""
    worst = min(STATE_ORDER.index(row[k]["status"]) if row[k]["status"] in STATE_ORDER else 0
                for k in ("signed", "provenance", "sbom"))
    return worst, str(row["repository"]), str(row["package"]), ",".join(row["tags"])
