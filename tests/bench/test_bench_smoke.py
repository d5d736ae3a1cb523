"""Benchmark 2 in miniature: the floor client and the full audit send the same requests.

Not timed: speed goals live in `python -m bench`, which prints figures. This only keeps the
benchmark honest (the floor must do exactly the audit's HTTP work, no more, no less)."""

from __future__ import annotations

from pathlib import Path

from bench import b2_floor
from bench.estate import SeededRegistry


def test_floor_and_audit_send_the_same_requests(tmp_path: Path) -> None:
    with SeededRegistry(2, 5, seed_concurrency=2) as reg:
        result = b2_floor.run(reg, concurrency=4, repeat=1, out=tmp_path)
    # 1 catalog page + 1 tags/list per repository + 1 HEAD per tag
    assert result["floor_requests"] == result["audit_requests"] == 1 + 2 + 2 * 5
    assert result["same_requests"]
    assert result["requests_per_tag_oci"] == 13 / 10
    # Google's tags/list `manifest` map: one request per repository page, no HEADs
    assert result["google_requests"] == 1 + 2
