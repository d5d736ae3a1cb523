"""`--history gs://bucket/prefix` through the real google-cloud-storage client against the emulator: snapshots
chained by number, `ifGenerationMatch=0` so a scan that loses a race takes the next number, edits seen."""

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


def test_gcs_history_is_a_chain_and_a_lost_race_takes_the_next_number() -> None:
    with GcsEmulator() as gcs:
        client = gcs.client()
        create_bucket(client, "audit-reports")
        store = GcsHistory("gs://audit-reports/nightly", client=client)
        first = store.write(_snapshot("sha256:" + "a" * 64))
        # Two scans read the history at the same moment; both want number 2.
        read_a, read_b = store.read(), store.read()
        second = store.commit(_snapshot("sha256:" + "b" * 64), read_a)
        third = store.commit(_snapshot("sha256:" + "c" * 64), read_b)  # ifGenerationMatch=0 refused number 2
        assert [first, second, third] == [f"gs://audit-reports/nightly/snapshots/{n:012d}.json" for n in (1, 2, 3)]
        chain = store.read()
        assert chain.chain is not None and chain.chain.predecessor is not None
        assert chain.chain.latest is not None and chain.chain.latest.previous == "000000000002.json"
        assert chain.chain.predecessor.digest == chain.chain.latest.previous_digest


def test_gcs_history_edited_snapshot_is_seen_by_the_rule() -> None:
    from registry_guard.catalogue.judge import judge
    from registry_guard.catalogue.model import RegistryState
    from registry_guard.catalogue.rule import Inputs, Stage

    with GcsEmulator() as gcs:
        client = gcs.client()
        create_bucket(client, "audit-reports")
        store = GcsHistory("gs://audit-reports/nightly", client=client)
        for digest in ("a", "b"):
            store.write(_snapshot("sha256:" + digest * 64))
        blob = client.bucket("audit-reports").blob("nightly/snapshots/000000000001.json")
        blob.upload_from_string(blob.download_as_bytes().replace(b"a" * 64, b"f" * 64))  # rewritten in place
        read = store.read()
        assert read.previous is not None
        judged = judge(Inputs(RegistryState(observed_at=datetime.now(UTC)),
                              previous=RegistryState(images=read.previous.images, history=read.chain)),
                       Stage.HISTORY, ["history-integrity"])
        [edited] = judged.findings
        assert edited.evidence["change"] == "edited" and edited.resource.startswith("history:gs://audit-reports/")
