"""Benchmark 2 in miniature: the floor client and the full audit send the same requests.

Not timed: speed goals live in `python -m bench`, which prints figures. This only keeps the
benchmark honest (the floor must do exactly the audit's HTTP work, no more, no less)."""

from __future__ import annotations

from pathlib import Path

from bench import b2_floor, b5_policy, b7_signatures
from bench.estate import SeededRegistry


def test_floor_and_audit_send_the_same_requests(tmp_path: Path) -> None:
    with SeededRegistry(2, 5, seed_concurrency=2) as reg:
        result = b2_floor.run(reg, concurrency=4, repeat=1, out=tmp_path)
    # 1 catalog page + 1 tags/list per repository + 1 HEAD per tag: no signatures to verify, no metadata to
    # judge (benchmark 7 measures those), so nothing more is asked
    assert result["floor_requests"] == result["audit_requests"] == 1 + 2 + 2 * 5
    assert result["same_requests"]
    assert result["requests_per_tag_oci"] == 13 / 10
    # Google's tags/list `manifest` map: one request per repository page, no HEADs
    assert result["google_requests"] == 1 + 2


def test_policy_benchmark_packs_answer_and_the_loop_judges_like_the_offline_check(tmp_path: Path) -> None:
    """Benchmark 5 in miniature: the protocol floor answers every engine call with nothing, the pack on
    the SDK's own servicer and ours find the same planted violations, and `run` raises if its
    prebuilt-request loop and `PolicyPackClient.check` disagree."""
    items = b5_policy.resources(120)
    protocol = b5_policy.measure("protocol", b5_policy.FLOORS / "protocol_floor", items)
    sdk = b5_policy.measure("sdk", b5_policy.FLOORS / "sdk_servicer", items)
    ours = b5_policy.measure("ours", b5_policy.PACK_DIR, items)
    assert protocol.violations == 0
    assert len(protocol.per) == len(sdk.per) == len(ours.per) == 120
    # Planted in the first 120: repositories i = 0, 40, 80 keep mutable tags; IAM members i = 13, 65, 117
    # grant the admin role; member i = 1 grants allUsers.
    assert ours.violations == sdk.violations == 3 + 3 + 1
    assert ours.prefix_violations == ours.violations  # fewer than CROSS_CHECK resources: all of them
    b5_policy._cross_check(items, ours)


def test_effective_access_benchmark_builds_the_organization_it_says() -> None:
    """Benchmark 6's organization: five folder levels, the projects, custom roles and principals it states, and
    every repository in both the Artifact Registry and Cloud Asset stand-ins (not timed here)."""
    from bench.b6_effective_access import Shape, build

    shape = Shape(repositories=30, projects=12, custom_roles=8, principals=300)
    iam, ar, principals = build(shape)
    folders = [n for n in iam.all_nodes() if n.startswith("folders/")]
    deepest = max(len([a for a in iam.ancestry(f) if a.startswith("folders/")]) for f in folders)
    assert deepest == shape.levels == 5
    assert len([n for n in iam.all_nodes() if n.startswith("projects/")]) == 12
    assert len(iam.custom_roles("organizations/1")) == 8
    assert principals == 300
    named = {m for name in iam.all_nodes() if (node := iam.node(name)) and node.policy
             for b in node.policy["bindings"] for m in b["members"]}
    assert len(named) == 300  # every principal of the pool is in some policy of the hierarchy
    assert len(iam.assets()) == len([r for p in range(12) for r in ar.repository_names(
        f"projects/bench-p{p:03d}/locations/us-central1")]) == 30


def test_signature_benchmark_checks_its_scans_and_counts_what_signatures_add(tmp_path: Path) -> None:
    """Benchmark 7 in miniature: both scans are complete and judge as they must (the run raises otherwise), and
    signature checks add two requests per signed release (its .sig manifest and layer) and the one referrers
    probe, whatever the listing; Google's listing stays one request per repository page."""
    result = b7_signatures.run(repos=2, tags=4, delay=0.002, concurrency=4, repeat=1, out=tmp_path)
    assert result["tag_count"] == 8 and result["signed"] == 4
    # per version tag: its manifest (a GET instead of the HEAD) and its config; plus the catalog and 2 listings
    assert result["loopback"]["requests"] == {"without": 3 + 2 * 8, "with": 3 + 2 * 8 + 2 * 4 + 1}
    google = result["google"]
    assert google["without"]["by_kind"]["listing"] == google["with"]["by_kind"]["listing"] == 3
    assert google["with"]["requests"] - google["without"]["requests"] == 2 * 4 + 1
    assert result["google_listing_unchanged"]
