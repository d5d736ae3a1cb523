"""`--history gs://bucket/prefix` through the real google-cloud-storage client against the emulator."""

from __future__ import annotations

from datetime import UTC, datetime

from registry_guard.catalogue.model import Image, ResourceRef

from audit.sources.history import GcsHistory, Snapshot
from localdev.gcs_emulator import GcsEmulator, create_bucket


def _snapshot(digest: str) -> Snapshot:
    image = Image(ResourceRef("repository", "127.0.0.1:5000"), "models/llm", digest, ("v1.0.0",))
    return Snapshot(datetime.now(UTC), (image,))


def test_gcs_history_round_trip_and_never_overwrites() -> None:
    with GcsEmulator() as gcs:
        client = gcs.client()
        create_bucket(client, "audit-reports")
        store = GcsHistory("gs://audit-reports/nightly", client=client)
        assert store.latest() is None
        first = store.write(_snapshot("sha256:" + "a" * 64))
        second = store.write(_snapshot("sha256:" + "b" * 64))
        assert first != second and first.startswith("gs://audit-reports/nightly/snapshots/")
        names = sorted(b.name for b in client.list_blobs("audit-reports"))
        assert len(names) == 2  # both kept
        latest = store.latest()
        assert latest is not None and latest.images[0].digest == "sha256:" + "b" * 64
        assert latest.name == second


def test_gcs_history_unreadable_bucket_is_a_history_error() -> None:
    import pytest

    from audit.sources.history import HistoryError

    with GcsEmulator() as gcs:
        store = GcsHistory("gs://no-such-bucket/x", client=gcs.client())
        with pytest.raises(HistoryError, match="gs://no-such-bucket/x"):
            store.latest()
