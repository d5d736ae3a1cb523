"""Deterministic slices of the estate for Cloud Run task parallelism (`--shard I/N`)."""

from __future__ import annotations

import zlib

Shard = tuple[int, int]


def in_shard(name: str, shard: Shard | None) -> bool:
    """Whether `name` (a repository or bucket) belongs to slice `shard`. crc32, unlike hash(), is the
    same in every process, so N tasks split the estate without talking to each other."""
    if shard is None:
        return True
    index, count = shard
    return zlib.crc32(name.encode()) % count == index
