"""cleanup-keeps-versions: at deploy time through the pack, and the cleanup simulation the live audit runs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE
from registry_guard.catalogue.cleanup import unprotected_deletes, would_delete
from registry_guard.catalogue.judge import judge
from registry_guard.catalogue.model import CleanupCondition, CleanupPolicy, Image, MostRecentVersions, RegistryState
from registry_guard.catalogue.rule import Inputs, Stage
from registry_guard.catalogue.settings import Settings

from audit.offline_check.analyzer import PolicyPackClient
from audit.sources.artifact_registry import scan_artifact_registry
from localdev.artifact_registry import ArtifactRegistryFake, FakeDockerImage, cleanup_policy, fake_digest

from .cases import PASSES, Blocks, CannotJudge, Case, Deploy, Finds, Live, Warns
from .live_state import NOW, digest, image, repository
from .resources import DELETE_TAGGED, DELETE_UNTAGGED, KEEP_TAGGED, KEEP_V, REPO, U, keep_delete, repo

# Cleanup policies as the live source reads them.
DELETE_OLD_POLICY = CleanupPolicy("delete-old", "DELETE",
                                  CleanupCondition(tag_state="ANY", older_than_seconds=30 * 86400))
KEEP_V_POLICY = CleanupPolicy("keep-v", "KEEP", CleanupCondition(tag_state="TAGGED", tag_prefixes=("v",)))
KEEP_ALL_VERSIONS_POLICY = CleanupPolicy("keep", "KEEP", CleanupCondition(tag_state="TAGGED", tag_prefixes=(
    "v", *"0123456789")))
KEEP_RECENT_POLICY = CleanupPolicy("recent", "KEEP", most_recent_versions=MostRecentVersions(keep_count=2))


def live(*policies: CleanupPolicy, images: tuple[Image, ...] = ()) -> Inputs:
    return Inputs(RegistryState(repositories=(repository(cleanup_policies=policies),), images=images,
                                observed_at=NOW))


CASES: list[Case] = [
    Deploy(
        name="no cleanup policies",
        type=REPO,
        props=repo(),
        expect=PASSES,
    ),
    Deploy(
        name="delete untagged after 14 days",
        type=REPO,
        props=keep_delete(DELETE_UNTAGGED),
        expect=PASSES,
    ),
    Deploy(
        name="delete tagged images after 30 days",
        type=REPO,
        props=keep_delete(DELETE_TAGGED),
        expect=Blocks("cleanup policy 'drop-old'"),
    ),
    Deploy(
        name="delete tagged, keep every tagged image",
        type=REPO,
        props=keep_delete(DELETE_TAGGED, KEEP_TAGGED),
        expect=PASSES,
    ),
    Deploy(
        name="keep only v-prefixed tags: 1.0.0 is a version too",
        type=REPO,
        props=keep_delete(DELETE_TAGGED, KEEP_V),
        expect=Blocks("can delete version-tagged images and no KEEP policy keeps them all (e.g. '0.0.0')"),
    ),
    Deploy(
        name="keep v-prefixed tags with a v-only pattern",
        type=REPO,
        props=keep_delete(DELETE_TAGGED, KEEP_V),
        expect=PASSES,
        config={"versionTagPattern": r"^v\d+\.\d+\.\d+$"},
    ),
    Deploy(
        name="delete with no condition",
        type=REPO,
        props=keep_delete({"id": "all", "action": "DELETE"}),
        expect=Blocks("cleanup policy 'all'"),
    ),
    Deploy(
        name="keep most recent versions does not protect older versions",
        type=REPO,
        props=keep_delete(
            DELETE_TAGGED, {"id": "recent", "action": "KEEP", "mostRecentVersions": {"keepCount": 5}}
        ),
        expect=Blocks("cleanup policy 'drop-old'"),
    ),
    Deploy(
        name="dry run is on",
        type=REPO,
        props=keep_delete(DELETE_TAGGED) | {"cleanupPolicyDryRun": True},
        expect=Warns("dry run is on: nothing is deleted until it is turned off"),
    ),
    Deploy(
        name="cleanup policies unknown at preview",
        type=REPO,
        props=repo(cleanupPolicies=UNKNOWN_ARRAY_VALUE),
        expect=CannotJudge("cleanup policies are not known yet"),
    ),
    Deploy(
        name="keep with an age limit does not cover",
        type=REPO,
        props=keep_delete(
            DELETE_TAGGED,
            {"id": "k", "action": "KEEP", "condition": {"tagState": "TAGGED", "newerThan": "7d"}},
        ),
        expect=Blocks("cleanup policy 'drop-old'"),
    ),
    Live(
        name="live: the policies would delete a released version of another prefix",
        inputs=live(DELETE_OLD_POLICY, KEEP_V_POLICY, images=(image(("1.0.0",), 90), image(("v2.0.0",), 90))),
        expect=Finds("would delete llm 1.0.0"),
    ),
    Live(
        name="live: a KEEP for every version prefix keeps every version",
        inputs=live(DELETE_OLD_POLICY, KEEP_ALL_VERSIONS_POLICY, images=(image(("1.0.0",), 90), image(("dev",), 90))),
        expect=PASSES,
    ),
    Deploy(
        name="a remote repository caches upstream copies: cleanup there keeps no releases of its own",
        type=REPO,
        props=keep_delete(DELETE_TAGGED) | {"mode": "REMOTE_REPOSITORY"},
        expect=PASSES,
    ),
    Deploy(
        name="a virtual repository holds nothing of its own",
        type=REPO,
        props=keep_delete(DELETE_TAGGED) | {"mode": "VIRTUAL_REPOSITORY"},
        expect=PASSES,
    ),
    Deploy(
        name="the repository mode is not known yet",
        type=REPO,
        props=keep_delete(DELETE_TAGGED) | {"mode": U},
        expect=CannotJudge("the repository mode is not known yet"),
    ),
    Deploy(
        name="KEEP prefixes spread over two policies are pooled",
        type=REPO,
        props=keep_delete(DELETE_TAGGED, KEEP_V, {"id": "keep-digits", "action": "KEEP",
                                                 "condition": {"tagState": "TAGGED",
                                                               "tagPrefixes": list("0123456789")}}),
        expect=PASSES,
    ),
    Deploy(
        name="a custom pattern: release-N tags kept by their own prefix",
        type=REPO,
        props=keep_delete(DELETE_TAGGED, {"id": "keep-rel", "action": "KEEP",
                                          "condition": {"tagState": "TAGGED", "tagPrefixes": ["rel"]}}),
        config={"versionTagPattern": "^release-[0-9]+$"},
        expect=PASSES,
    ),
    Deploy(
        name="a custom pattern the KEEP prefixes miss",
        type=REPO,
        props=keep_delete(DELETE_TAGGED, KEEP_V),
        config={"versionTagPattern": "^release-[0-9]+$"},
        expect=Blocks("(e.g. 'release-0')"),
    ),
    Deploy(
        name="a DELETE policy limited to dev- tags cannot reach a version tag",
        type=REPO,
        props=keep_delete({"id": "drop-dev", "action": "DELETE",
                           "condition": {"tagState": "TAGGED", "tagPrefixes": ["dev-"], "olderThan": "604800s"}}),
        expect=PASSES,
    ),
    Deploy(
        name="a pattern with a back-reference cannot be compared with prefixes",
        type=REPO,
        props=keep_delete(DELETE_TAGGED, KEEP_V),
        config={"versionTagPattern": r"^v(\d)\.\1$"},
        expect=CannotJudge("versionTagPattern cannot be compared with cleanup prefixes"),
    ),
    Deploy(
        name="Python: an UNTAGGED delete reaches every released version (they carry no tags)",
        type=REPO,
        props=keep_delete(DELETE_UNTAGGED, KEEP_V) | {"format": "PYTHON", "dockerConfig": None},
        expect=Blocks("can delete released versions and no KEEP policy keeps them all (e.g. '0.0.0')"),
    ),
    Deploy(
        name="Python: released versions kept by version name prefix",
        type=REPO,
        props=keep_delete(DELETE_UNTAGGED, {"id": "keep-releases", "action": "KEEP",
                                            "condition": {"tagState": "ANY",
                                                          "versionNamePrefixes": ["v", *"0123456789"]}})
        | {"format": "PYTHON", "dockerConfig": None},
        expect=PASSES,
    ),
    Deploy(
        name="Maven: a TAGGED delete cannot reach versions, which carry no tags",
        type=REPO,
        props=keep_delete(DELETE_TAGGED) | {"format": "MAVEN", "dockerConfig": None},
        expect=PASSES,
    ),
    Deploy(
        name="npm: a TAGGED delete reaches versions that carry dist-tags",
        type=REPO,
        props=keep_delete(DELETE_TAGGED) | {"format": "NPM", "dockerConfig": None},
        expect=Blocks("can delete released versions"),
    ),
    Deploy(
        name="generic: an age-limited KEEP keeps only some versions",
        type=REPO,
        props=keep_delete(DELETE_UNTAGGED, {"id": "keep-new", "action": "KEEP",
                                            "condition": {"tagState": "ANY", "newerThan": "2592000s"}})
        | {"format": "GENERIC", "dockerConfig": None},
        expect=Blocks("can delete released versions"),
    ),
]


def test_case(case: Case, rule_id: str, pack: PolicyPackClient) -> None:
    case.check(rule_id, pack)


# --- the simulation: what the policies would delete from a live inventory -------------------------------



def test_keep_wins_over_delete() -> None:
    images = [image(("v1.0.0",), 90), image(("dev",), 90), image((), 90), image(("v2.0.0",), 1)]
    doomed = would_delete([DELETE_OLD_POLICY, KEEP_V_POLICY], images, NOW)
    assert [i.tags for i in doomed] == [("dev",), ()]


def test_most_recent_versions_keeps_the_newest_per_package() -> None:
    images = [image(("v1.0.0",), 300), image(("v1.1.0",), 200), image(("v1.2.0",), 100),
              image(("v0.1.0",), 400, package="vision")]
    doomed = would_delete([DELETE_OLD_POLICY, KEEP_RECENT_POLICY], images, NOW)
    assert [(i.package, i.tags) for i in doomed] == [("llm", ("v1.0.0",))]


def test_static_analysis_matches_the_version_pattern() -> None:
    settings = Settings()
    def gaps(*policies: CleanupPolicy, on: Settings = settings, fmt: str = "DOCKER") -> list[tuple[str, str | None]]:
        return [(u.policy.id, u.example) for u in unprotected_deletes(policies, on, fmt)]

    assert gaps(DELETE_OLD_POLICY) == [("delete-old", "0.0.0")]
    # `v` alone leaves 1.0.0-style versions, which the default pattern accepts, deletable.
    assert gaps(DELETE_OLD_POLICY, KEEP_V_POLICY) == [("delete-old", "0.0.0")]
    assert gaps(DELETE_OLD_POLICY, KEEP_ALL_VERSIONS_POLICY) == []
    # Keeping the newest N is not keeping every version.
    assert gaps(DELETE_OLD_POLICY, KEEP_RECENT_POLICY) == [("delete-old", "0.0.0")]
    untagged_only = CleanupPolicy("d", "DELETE", CleanupCondition(tag_state="UNTAGGED", older_than_seconds=1))
    assert gaps(untagged_only) == []
    v_only = Settings(version_tag_pattern=r"^v\d+\.\d+\.\d+$")
    assert gaps(DELETE_OLD_POLICY, KEEP_V_POLICY, on=v_only) == []
    # Any KEEP policy keeps what it matches: prefixes spread over several KEEP policies are pooled.
    digits = CleanupPolicy("keep-digits", "KEEP",
                           CleanupCondition(tag_state="TAGGED", tag_prefixes=tuple("0123456789")))
    assert gaps(DELETE_OLD_POLICY, KEEP_V_POLICY, digits) == []
    # Untagged Python versions are what an UNTAGGED delete reaches; a tag prefix keeps none of them.
    assert gaps(untagged_only, KEEP_ALL_VERSIONS_POLICY, fmt="PYTHON") == [("d", "0.0.0")]


versions = st.builds(lambda a, b, c, v: f"{'v' if v else ''}{a}.{b}.{c}", st.integers(0, 20), st.integers(0, 20),
                     st.integers(0, 20), st.booleans())


@given(st.lists(st.tuples(st.lists(versions | st.sampled_from(["latest", "dev", "nightly"]), max_size=3),
                          st.integers(0, 400)), max_size=25))
def test_statically_safe_policies_never_delete_a_version(images_spec: list[tuple[list[str], int]]) -> None:
    """If static analysis calls a policy set safe, the simulation never deletes a version-tagged image."""
    settings = Settings()
    images = [image(tuple(tags), days, image_digest=digest(f"{i}")) for i, (tags, days) in enumerate(images_spec)]
    for policies in ([DELETE_OLD_POLICY, KEEP_ALL_VERSIONS_POLICY],
                     [CleanupPolicy("d", "DELETE", CleanupCondition(tag_state="UNTAGGED")), KEEP_RECENT_POLICY]):
        assert unprotected_deletes(policies, settings) == []
        doomed = would_delete(policies, images, NOW)
        assert not [i for i in doomed if any(settings.is_version_tag(t) for t in i.tags)]



def test_cleanup_policy_read_live_is_simulated() -> None:
    with ArtifactRegistryFake() as ar:
        name = ar.estate.add_repository("proj-1", "us-central1", "models", immutable_tags=True, cleanup_policies=[
            cleanup_policy("old", "DELETE", tag_state="TAGGED", tag_prefixes=["v0."], older_than=86400)])
        ar.estate.add_images(name, [
            FakeDockerImage("m", fake_digest("old"), ("v0.9.0",), upload_time="2020-01-01T00:00:00Z"),
            FakeDockerImage("m", fake_digest("new"), ("v1.0.0",), upload_time="2020-01-01T00:00:00Z")])
        scan = scan_artifact_registry("proj-1", "us-central1", endpoint=ar.endpoint)
    findings = judge(Inputs(scan.state), Stage.LIVE, ["cleanup-keeps-versions"]).findings
    assert [f.evidence.get("versions") for f in findings if "versions" in f.evidence] == [["v0.9.0"]]
