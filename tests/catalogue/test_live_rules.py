"""Rule logic that only the live audit exercises: cleanup simulation, scanning state, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from registry_guard.catalogue.checks.cleanup import unprotected_deletes, would_delete
from registry_guard.catalogue.judge import judge, judge_history
from registry_guard.catalogue.model import (
    CleanupCondition,
    CleanupPolicy,
    Image,
    MostRecentVersions,
    RegistryState,
    Repository,
    ResourceRef,
)
from registry_guard.catalogue.settings import Settings

from audit.sources.artifact_registry import scan_artifact_registry
from localdev.artifact_registry_fake import ArtifactRegistryFake, FakeDockerImage, cleanup_policy, fake_digest

NOW = datetime(2026, 11, 25, tzinfo=UTC)
REPO = ResourceRef("repository", "projects/p/locations/l/repositories/r")


def _image(tags: tuple[str, ...], days: int, package: str = "llm", digest: str | None = None) -> Image:
    return Image(REPO, package, digest or fake_digest(f"{package}{tags}{days}"), tags,
                 uploaded=NOW - timedelta(days=days))


DELETE_OLD = CleanupPolicy("delete-old", "DELETE", CleanupCondition(tag_state="ANY", older_than_seconds=30 * 86400))
KEEP_V = CleanupPolicy("keep-v", "KEEP", CleanupCondition(tag_state="TAGGED", tag_prefixes=("v",)))
KEEP_ALL_VERSIONS = CleanupPolicy("keep", "KEEP", CleanupCondition(tag_state="TAGGED", tag_prefixes=(
    "v", *"0123456789")))
KEEP_RECENT = CleanupPolicy("recent", "KEEP", most_recent_versions=MostRecentVersions(keep_count=2))


def test_keep_wins_over_delete() -> None:
    images = [_image(("v1.0.0",), 90), _image(("dev",), 90), _image((), 90), _image(("v2.0.0",), 1)]
    doomed = would_delete([DELETE_OLD, KEEP_V], images, NOW)
    assert [i.tags for i in doomed] == [("dev",), ()]


def test_most_recent_versions_keeps_the_newest_per_package() -> None:
    images = [_image(("v1.0.0",), 300), _image(("v1.1.0",), 200), _image(("v1.2.0",), 100),
              _image(("v0.1.0",), 400, package="vision")]
    doomed = would_delete([DELETE_OLD, KEEP_RECENT], images, NOW)
    assert [(i.package, i.tags) for i in doomed] == [("llm", ("v1.0.0",))]


def test_static_analysis_matches_the_version_pattern() -> None:
    settings = Settings()
    assert unprotected_deletes([DELETE_OLD], settings) == [DELETE_OLD]
    # `v` alone leaves 1.0.0-style versions, which the default pattern accepts, deletable.
    assert unprotected_deletes([DELETE_OLD, KEEP_V], settings) == [DELETE_OLD]
    assert unprotected_deletes([DELETE_OLD, KEEP_ALL_VERSIONS], settings) == []
    # Keeping the newest N is not keeping every version.
    assert unprotected_deletes([DELETE_OLD, KEEP_RECENT], settings) == [DELETE_OLD]
    untagged_only = CleanupPolicy("d", "DELETE", CleanupCondition(tag_state="UNTAGGED", older_than_seconds=1))
    assert unprotected_deletes([untagged_only], settings) == []
    v_only = Settings(version_tag_pattern=r"^v\d+\.\d+\.\d+$")
    assert unprotected_deletes([DELETE_OLD, KEEP_V], v_only) == []


versions = st.builds(lambda a, b, c, v: f"{'v' if v else ''}{a}.{b}.{c}", st.integers(0, 20), st.integers(0, 20),
                     st.integers(0, 20), st.booleans())


@given(st.lists(st.tuples(st.lists(versions | st.sampled_from(["latest", "dev", "nightly"]), max_size=3),
                          st.integers(0, 400)), max_size=25))
def test_statically_safe_policies_never_delete_a_version(images_spec: list[tuple[list[str], int]]) -> None:
    """If static analysis calls a policy set safe, the simulation never deletes a version-tagged image."""
    settings = Settings()
    images = [_image(tuple(tags), days, digest=fake_digest(f"{i}")) for i, (tags, days) in enumerate(images_spec)]
    for policies in ([DELETE_OLD, KEEP_ALL_VERSIONS],
                     [CleanupPolicy("d", "DELETE", CleanupCondition(tag_state="UNTAGGED")), KEEP_RECENT]):
        assert unprotected_deletes(policies, settings) == []
        doomed = would_delete(policies, images, NOW)
        assert not [i for i in doomed if any(settings.is_version_tag(t) for t in i.tags)]


def test_scanning_inherited_but_inactive_is_found() -> None:
    with ArtifactRegistryFake() as ar:
        ar.estate.add_repository("proj-1", "us-central1", "models", immutable_tags=True, scanning="INHERITED",
                                 scanning_state="SCANNING_DISABLED",
                                 scanning_state_reason="Container Scanning API is disabled")
        ar.estate.add_images("projects/proj-1/locations/us-central1/repositories/models",
                             [FakeDockerImage("m", fake_digest("m"), ("v1.0.0",))])
        scan = scan_artifact_registry("proj-1", "us-central1", endpoint=ar.endpoint)
    [repo] = scan.state.repositories
    assert repo.scanning == "INHERITED" and repo.scanning_state == "SCANNING_DISABLED"
    [finding] = judge(scan.state, Settings(), ["vulnerability-scanning"]).findings
    assert "Container Scanning API is disabled" in finding.message


def test_cleanup_policy_read_live_is_simulated() -> None:
    with ArtifactRegistryFake() as ar:
        name = ar.estate.add_repository("proj-1", "us-central1", "models", immutable_tags=True, cleanup_policies=[
            cleanup_policy("old", "DELETE", tag_state="TAGGED", tag_prefixes=["v0."], older_than=86400)])
        ar.estate.add_images(name, [
            FakeDockerImage("m", fake_digest("old"), ("v0.9.0",), upload_time="2020-01-01T00:00:00Z"),
            FakeDockerImage("m", fake_digest("new"), ("v1.0.0",), upload_time="2020-01-01T00:00:00Z")])
        scan = scan_artifact_registry("proj-1", "us-central1", endpoint=ar.endpoint)
    findings = judge(scan.state, Settings(), ["cleanup-keeps-versions"]).findings
    assert [f.evidence.get("versions") for f in findings if "versions" in f.evidence] == [["v0.9.0"]]


def test_history_ignores_unread_repositories() -> None:
    before = RegistryState(images=(_image(("v1.0.0",), 1, digest="sha256:a"),))
    assert [f.rule_id for f in judge_history(before, RegistryState(), Settings()).findings] == ["version-deleted"]
    assert judge_history(before, RegistryState(), Settings(), [REPO.name]).findings == ()
    moved = RegistryState(images=(_image(("v1.0.0",), 1, digest="sha256:b"),))
    [finding] = judge_history(before, moved, Settings()).findings
    assert finding.rule_id == "version-tag-moved" and finding.evidence["current_digest"] == "sha256:b"


def test_repository_defaults_are_judged_not_assumed() -> None:
    state = RegistryState(repositories=(Repository(REPO),))
    rules = {f.rule_id for f in judge(state, Settings()).findings}
    assert {"immutable-tags", "customer-managed-encryption", "required-labels"} <= rules
