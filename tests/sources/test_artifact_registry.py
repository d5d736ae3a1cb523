"""The Artifact Registry source, through the real google-cloud-artifact-registry client (REST)
against the local fake on 127.0.0.1. No test reaches Google: a guard refuses any other address."""

from __future__ import annotations

import json
import pathlib
import socket
import urllib.error
import urllib.request
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from ar_fixtures import (
    KMS_KEY,
    LOCATION,
    PARENT,
    PROJECT,
    PUBLIC_CONDITION,
    StandardEstate,
    repo_name,
    standard_estate,
)
from google.api_core import exceptions as gexc
from google.protobuf import duration_pb2
from hypothesis import given
from hypothesis import strategies as st
from registry_guard.catalogue.model import (
    CleanupCondition,
    CleanupPolicy,
    Condition,
    Grant,
    MostRecentVersions,
    ResourceRef,
)

from audit.errors import ScanError
from audit.sources.artifact_registry import (
    ArtifactRegistryScan,
    make_client,
    parse_protobuf_duration,
    protobuf_duration_seconds,
    scan_artifact_registry,
)
from audit.sources.google_calls import describe_failure
from localdev.artifact_registry import (
    ArtifactRegistryFake,
    FakeEstate,
    RecordedRequest,
    SyntheticImages,
    iter_read_only_violations,
)
from localdev.fault_proxy import FaultProxy, Recorded, Rule, google_error, malformed_json, replace_body

warnings.filterwarnings("ignore", category=FutureWarning, module="google.*")


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a non-loopback address fails the test instead of reaching Google."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1"):
            raise AssertionError(f"test tried to connect to {address!r}")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def fake_for() -> Iterator[Callable[[FakeEstate], ArtifactRegistryFake]]:
    started: list[ArtifactRegistryFake] = []

    def start(estate: FakeEstate) -> ArtifactRegistryFake:
        fake = ArtifactRegistryFake(estate).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def proxy_for() -> Iterator[Callable[[ArtifactRegistryFake], FaultProxy]]:
    """A fault proxy in front of a fake: it answers its plan's faults itself and records every
    request, faulted or forwarded, so a test counts attempts on the proxy, not on the fake."""
    started: list[FaultProxy] = []

    def start(fake: ArtifactRegistryFake) -> FaultProxy:
        proxy = FaultProxy(fake.endpoint).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture
def standard() -> StandardEstate:
    return standard_estate()


def scan(server: ArtifactRegistryFake | FaultProxy, **kwargs: Any) -> ArtifactRegistryScan:
    kwargs.setdefault("retry_deadline", 5.0)
    endpoint = server.url if isinstance(server, FaultProxy) else server.endpoint
    return scan_artifact_registry(PROJECT, LOCATION, endpoint=endpoint, **kwargs)


def ref(name: str) -> ResourceRef:
    return ResourceRef("repository", name)


def image_requests(fake: ArtifactRegistryFake, repository: str) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.path == f"/v1/{repository}/dockerImages"]


def proxied_image_requests(proxy: FaultProxy, repository: str) -> list[Recorded]:
    return [r for r in proxy.requests if r.route == f"/v1/{repository}/dockerImages"]


# Paths (with query) the proxy's rules search: a ListDockerImages call for a later page, any
# ListDockerImages call, and a ListRepositories call.
LATER_IMAGE_PAGE = r"/dockerImages\?(.*&)?pageToken=[^&]"
ANY_IMAGE_PAGE = r"/dockerImages(\?|$)"
REPOSITORY_LISTING = r"/repositories(\?|$)"


# ---------------------------------------------------------------------------------------------
# Repositories, settings, IAM
# ---------------------------------------------------------------------------------------------


def test_repositories_and_their_settings_come_back(
    standard: StandardEstate, fake_for: Callable[[FakeEstate], ArtifactRegistryFake]
) -> None:
    result = scan(fake_for(standard.estate))

    assert result.errors == ()
    assert result.complete
    repos = {r.ref.name: r for r in result.state.repositories}
    assert sorted(repos) == sorted(standard.all)
    assert result.repository_count == 5

    mutable = repos[standard.mutable]
    assert mutable.immutable_tags is False
    assert mutable.scanning == "INHERITED"  # UNSPECIFIED on a Docker repository
    assert mutable.cleanup_policies == ()
    assert mutable.kms_key_name is None
    assert mutable.format == "DOCKER" and mutable.mode == "STANDARD_REPOSITORY"
    assert mutable.source == "artifact-registry ListRepositories"

    risky = repos[standard.risky_cleanup]
    assert risky.cleanup_policies == (
        CleanupPolicy(
            "delete-old", "DELETE", CleanupCondition(tag_state="ANY", older_than_seconds=30 * 86_400.0)
        ),
    )
    assert not any(p.action == "KEEP" for p in risky.cleanup_policies)

    assert repos[standard.unscanned].scanning == "DISABLED"

    hardened = repos[standard.hardened]
    assert hardened.immutable_tags is True
    assert hardened.kms_key_name == KMS_KEY
    assert hardened.labels == {"team": "ml", "env": "prod"}
    assert hardened.cleanup_dry_run is True
    assert hardened.scanning == "INHERITED"
    assert hardened.cleanup_policies == (  # sorted by id: the API returns a map
        CleanupPolicy(
            "delete-untagged",
            "DELETE",
            CleanupCondition(
                tag_state="UNTAGGED", package_name_prefixes=("models/",), older_than_seconds=604_800.5
            ),
        ),
        CleanupPolicy("keep-recent", "KEEP", most_recent_versions=MostRecentVersions(10, ("models/",))),
        CleanupPolicy(
            "keep-releases", "KEEP", CleanupCondition(tag_state="TAGGED", tag_prefixes=("v", "release-"))
        ),
    )


def test_iam_policies_are_read_with_version_3_and_conditions_kept(
    standard: StandardEstate, fake_for: Callable[[FakeEstate], ArtifactRegistryFake]
) -> None:
    fake = fake_for(standard.estate)
    result = scan(fake)

    public = [g for g in result.state.grants if g.target == ref(standard.public)]
    assert (
        Grant(
            ref(standard.public),
            "roles/artifactregistry.reader",
            "allUsers",
            "iam-policy",
            Condition(PUBLIC_CONDITION, "until 2030", "temporary demo access"),
            source="artifact-registry GetIamPolicy",
        )
        in public
    )
    assert {g.member for g in public} == {"allUsers", "group:ml@example.com", "user:ana@example.com"}
    assert all(g.shape == "iam-policy" for g in result.state.grants)
    # Every repository's policy was read (even the empty ones), so drift may say "added".
    assert result.state.iam_complete_targets == frozenset(ref(n) for n in standard.all)
    iam_calls = [r for r in fake.requests if r.path.endswith(":getIamPolicy")]
    assert len(iam_calls) == 5
    assert {r.param("options.requestedPolicyVersion") for r in iam_calls} == {"3"}


def test_fake_hides_conditions_from_version_1_callers_like_iam(
    standard: StandardEstate, fake_for: Callable[[FakeEstate], ArtifactRegistryFake]
) -> None:
    """Why version 3 matters: an older request gets a `_withcond_` role and no condition."""
    fake = fake_for(standard.estate)
    client = make_client(fake.endpoint)
    policy = client.get_iam_policy(
        request={"resource": standard.public, "options": {"requested_policy_version": 1}}
    )
    roles = {b.role for b in policy.bindings}
    assert any(r.startswith("roles/artifactregistry.reader_withcond_") for r in roles)
    assert not any(b.HasField("condition") for b in policy.bindings)
    assert policy.version == 1
    assert isinstance(policy.etag, bytes) and policy.etag


def test_repositories_listed_across_pages(fake_for: Callable[[FakeEstate], ArtifactRegistryFake]) -> None:
    estate = FakeEstate()
    for i in range(5):
        estate.add_repository(PROJECT, LOCATION, f"repo-{i}")
    estate.add_repository(PROJECT, "us-central1", "elsewhere")  # another location: not listed
    fake = fake_for(estate)
    result = scan(fake, page_size=2)
    assert [r.ref.name for r in result.state.repositories] == [repo_name(f"repo-{i}") for i in range(5)]
    listing = [r for r in fake.requests if r.path == f"/v1/{PARENT}/repositories"]
    assert len(listing) == 3
    assert [r.param("pageToken") is not None for r in listing] == [False, True, True]


# ---------------------------------------------------------------------------------------------
# Images and paging
# ---------------------------------------------------------------------------------------------


def test_images_come_back_normalized(
    standard: StandardEstate, fake_for: Callable[[FakeEstate], ArtifactRegistryFake]
) -> None:
    result = scan(fake_for(standard.estate), repositories=["mutable-tags"])
    images = {(i.package, i.tags): i for i in result.state.images}
    llm = images[("models/llm", ("v1", "stable"))]
    assert llm.repository == ref(standard.mutable)
    assert llm.digest is not None and llm.digest.startswith("sha256:") and len(llm.digest) == 71
    assert llm.size_bytes == 123_456_789  # int64 arrives as a JSON string
    assert llm.uploaded == datetime(2025, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    assert ("models/llm", ()) in images  # untagged
    assert ("team/a b/ranker", ("latest",)) in images  # %2F and %20 decoded
    assert result.image_count == 3 and result.image_pages == 1


def test_images_across_several_pages(fake_for: Callable[[FakeEstate], ArtifactRegistryFake]) -> None:
    standard = standard_estate(big_images=2_500)
    assert standard.big is not None
    fake = fake_for(standard.estate)
    result = scan(fake, repositories=[standard.big], page_size=1000)

    assert result.errors == ()
    assert result.image_count == 2_500 == len(result.state.images)
    assert result.image_pages == 3
    assert len({i.digest for i in result.state.images}) == 2_500
    assert {i.package for i in result.state.images} == {f"models/family-{n}" for n in range(7)}
    calls = image_requests(fake, standard.big)
    assert len(calls) == 3
    assert [c.param("pageSize") for c in calls] == ["1000"] * 3
    tokens = [c.param("pageToken") for c in calls]
    assert tokens[0] is None and tokens[1] and tokens[2] and tokens[1] != tokens[2]


def test_page_size_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        scan_artifact_registry(PROJECT, LOCATION, endpoint="http://127.0.0.1:9", page_size=1001)
    with pytest.raises(ValueError):
        scan_artifact_registry(PROJECT, LOCATION, endpoint="http://127.0.0.1:9", page_size=0)


# ---------------------------------------------------------------------------------------------
# Filter and failures
# ---------------------------------------------------------------------------------------------


def test_repository_filter_reads_only_those(
    standard: StandardEstate, fake_for: Callable[[FakeEstate], ArtifactRegistryFake]
) -> None:
    fake = fake_for(standard.estate)
    result = scan(fake, repositories=["public-models", standard.hardened, "public-models"])
    assert [r.ref.name for r in result.state.repositories] == [standard.public, standard.hardened]
    assert all(r.source == "artifact-registry GetRepository" for r in result.state.repositories)
    assert not any(r.path == f"/v1/{PARENT}/repositories" for r in fake.requests)  # no listing
    with pytest.raises(ValueError):
        scan(fake, repositories=["projects/other/locations/x/repositories/y"])


def test_repository_ids_follow_googles_naming_rule(
    standard: StandardEstate, fake_for: Callable[[FakeEstate], ArtifactRegistryFake]
) -> None:
    fake = fake_for(standard.estate)
    for bad in ("Models", "-models", "models-", "models/llm", "m" * 64):
        with pytest.raises(ValueError, match="not a repository id"):
            scan(fake, repositories=[bad])
    assert not fake.requests  # refused before any request
    longest = "m" * 63  # Google's limit: an id this long is asked for (and here it does not exist)
    assert [e.target for e in scan(fake, repositories=[longest]).errors] == [repo_name(longest)]


def test_missing_repository_is_an_error_and_the_rest_is_read(
    standard: StandardEstate, fake_for: Callable[[FakeEstate], ArtifactRegistryFake]
) -> None:
    result = scan(fake_for(standard.estate), repositories=["public-models", "gone", "mutable-tags"])
    assert [r.ref.name for r in result.state.repositories] == [standard.public, standard.mutable]
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.source == "artifact-registry"
    assert error.target == repo_name("gone")
    assert "repository not read" in error.message and "NotFound (404)" in error.message
    assert "http" not in error.message
    assert not result.complete


def test_transient_503_and_429_are_retried_to_success(
    fake_for: Callable[[FakeEstate], ArtifactRegistryFake],
    proxy_for: Callable[[ArtifactRegistryFake], FaultProxy],
) -> None:
    standard = standard_estate(big_images=1_500)
    assert standard.big is not None
    proxy = proxy_for(fake_for(standard.estate))
    proxy.plan = [
        Rule(google_error(503), path=LATER_IMAGE_PAGE, times=2),
        Rule(google_error(429), path=":getIamPolicy", times=1),
        Rule(google_error(503), path=REPOSITORY_LISTING, times=1),
    ]

    result = scan(proxy)
    assert result.errors == ()
    assert result.image_count == 1_500 + 3
    assert len(result.state.iam_complete_targets) == 6
    calls = proxied_image_requests(proxy, standard.big)
    assert len(calls) == 4  # first page, then the second page three times (two 503s)
    assert [c.fault for c in calls] == [None, "status", "status", None]
    assert len({c.param("pageToken") for c in calls[1:]}) == 1
    faulted = Counter(r.route.rsplit("/", 1)[-1].split(":")[-1] for r in proxy.requests if r.fault)
    assert faulted == {"dockerImages": 2, "getIamPolicy": 1, "repositories": 1}  # every fault was served


def test_persistent_503_mid_listing_is_an_error_without_the_page_token(
    fake_for: Callable[[FakeEstate], ArtifactRegistryFake],
    proxy_for: Callable[[ArtifactRegistryFake], FaultProxy],
) -> None:
    standard = standard_estate(big_images=2_500)
    assert standard.big is not None
    proxy = proxy_for(fake_for(standard.estate))
    proxy.plan = [Rule(google_error(503), path=LATER_IMAGE_PAGE)]

    result = scan(proxy, repositories=[standard.big], retry_deadline=0.5)
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.target == standard.big
    assert "docker images not read completely (1000 read on 1 pages" in error.message
    assert "ServiceUnavailable (503)" in error.message
    token = proxied_image_requests(proxy, standard.big)[-1].param("pageToken")
    assert token and token not in error.message
    assert result.image_count == 1000  # what was read is kept; the error says it is partial
    assert result.state.iam_complete_targets == frozenset({ref(standard.big)})


def test_denied_iam_policy_leaves_the_repository_iam_incomplete(
    standard: StandardEstate, fake_for: Callable[[FakeEstate], ArtifactRegistryFake]
) -> None:
    standard.estate.deny(standard.public, {"artifactregistry.repositories.getIamPolicy"})
    result = scan(fake_for(standard.estate))
    assert [(e.target, e.message.split(":")[0]) for e in result.errors] == [
        (standard.public, "IAM policy not read")
    ]
    assert "Forbidden (403)" in result.errors[0].message  # REST 403; gRPC would say PermissionDenied
    assert ref(standard.public) not in result.state.iam_complete_targets
    assert not any(g.target == ref(standard.public) for g in result.state.grants)
    assert len(result.state.repositories) == 5  # settings were still read


def test_denied_listing_is_an_error_for_the_location(
    fake_for: Callable[[FakeEstate], ArtifactRegistryFake],
) -> None:
    estate = FakeEstate()
    estate.add_repository(PROJECT, LOCATION, "r")
    estate.deny(PARENT)
    result = scan(fake_for(estate))
    assert result.state.repositories == ()
    assert [e.target for e in result.errors] == [PARENT]
    assert "repositories not listed completely (0 read" in result.errors[0].message


def test_malformed_json_is_an_error_not_a_crash(
    standard: StandardEstate,
    fake_for: Callable[[FakeEstate], ArtifactRegistryFake],
    proxy_for: Callable[[ArtifactRegistryFake], FaultProxy],
) -> None:
    proxy = proxy_for(fake_for(standard.estate))
    proxy.plan = [Rule(malformed_json(b'{"dockerImages": [{"name": '), path=ANY_IMAGE_PAGE)]
    result = scan(proxy, repositories=["mutable-tags", "hardened"])
    assert {e.target for e in result.errors} == {standard.mutable, standard.hardened}
    assert all("not valid Artifact Registry JSON" in e.message for e in result.errors)
    assert len(result.state.repositories) == 2


def test_a_repeated_page_token_stops_paging(
    standard: StandardEstate,
    fake_for: Callable[[FakeEstate], ArtifactRegistryFake],
    proxy_for: Callable[[ArtifactRegistryFake], FaultProxy],
) -> None:
    proxy = proxy_for(fake_for(standard.estate))
    image = {"name": f"{standard.mutable}/dockerImages/models%2Fx@sha256:{'0' * 64}", "tags": ["v1"]}
    looping = json.dumps({"dockerImages": [image], "nextPageToken": "AGAIN"}).encode()
    proxy.plan = [Rule(replace_body(looping), path=ANY_IMAGE_PAGE)]
    result = scan(proxy, repositories=["mutable-tags"])
    assert len(proxied_image_requests(proxy, standard.mutable)) == 2
    assert [e.target for e in result.errors] == [standard.mutable]
    assert "repeated a page token" in result.errors[0].message
    assert "AGAIN" not in result.errors[0].message


def test_missing_credentials_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json")
    # https to loopback: ADC is required (no anonymous fallback) and nothing could leave the box.
    result = scan_artifact_registry(PROJECT, LOCATION, endpoint="https://127.0.0.1:9")
    assert result.errors == (ScanError("artifact-registry", PARENT, result.errors[0].message),)
    assert result.errors[0].message.startswith("nothing read: no Google credentials: File <file> was not found")
    assert "/nonexistent" not in result.errors[0].message


def test_plain_http_is_only_for_loopback() -> None:
    with pytest.raises(ValueError):
        make_client("http://registry.example.com:8080")


def test_error_messages_never_carry_tokens() -> None:
    exc = gexc.ServiceUnavailable(  # type: ignore[no-untyped-call]
        "GET http://127.0.0.1:1/v1/x/dockerImages?pageSize=1000&pageToken=SECRETPAGE: "
        "Authorization: Bearer ya29.abc-def rejected; access_token=xyz"
    )
    text = describe_failure(gexc.RetryError("deadline", exc), secrets={"SECRETPAGE"})  # type: ignore[no-untyped-call]
    for secret in ("SECRETPAGE", "ya29.abc-def", "xyz", "pageToken="):
        assert secret not in text
    assert "ServiceUnavailable (503)" in text


# ---------------------------------------------------------------------------------------------
# Read-only proof, and the fake's own contract
# ---------------------------------------------------------------------------------------------


def test_the_scan_only_reads(fake_for: Callable[[FakeEstate], ArtifactRegistryFake]) -> None:
    standard = standard_estate(big_images=1_200)
    fake = fake_for(standard.estate)
    scan(fake)
    scan(fake, repositories=["hardened"])
    assert fake.requests
    assert {r.method for r in fake.requests} == {"GET"}
    assert list(iter_read_only_violations(fake.requests)) == []
    kinds = {r.path.rsplit("/", 1)[-1].split(":")[-1] for r in fake.requests}
    assert kinds <= {
        "repositories",
        "dockerImages",
        "getIamPolicy",
        *(n.rsplit("/", 1)[-1] for n in standard.all),
    }


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_fake_refuses_writes(
    method: str, standard: StandardEstate, fake_for: Callable[[FakeEstate], ArtifactRegistryFake]
) -> None:
    fake = fake_for(standard.estate)
    request = urllib.request.Request(
        f"{fake.endpoint}/v1/{standard.public}:setIamPolicy", data=b"{}", method=method
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 405
    assert json.loads(info.value.read())["error"]["code"] == 405
    assert [r.method for r in fake.requests] == [method]
    assert len(list(iter_read_only_violations(fake.requests))) == 1


def test_fake_errors_use_googles_shape(
    standard: StandardEstate, fake_for: Callable[[FakeEstate], ArtifactRegistryFake]
) -> None:
    fake = fake_for(standard.estate)
    for path, code, status in [
        (f"/v1/{standard.public}/dockerImages?pageToken=forged", 400, "INVALID_ARGUMENT"),
        (f"/v1/{repo_name('nope')}", 404, "NOT_FOUND"),
        (f"/v1/{standard.public}:getIamPolicy?options.requestedPolicyVersion=2", 400, "INVALID_ARGUMENT"),
    ]:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(fake.endpoint + path, timeout=5)
        assert info.value.code == code
        error = json.loads(info.value.read())["error"]
        assert error["code"] == code and error["status"] == status and error["message"]


def test_fake_serves_string_enums_without_enum_encoding(
    standard: StandardEstate, fake_for: Callable[[FakeEstate], ArtifactRegistryFake]
) -> None:
    fake = fake_for(standard.estate)
    with urllib.request.urlopen(f"{fake.endpoint}/v1/{standard.hardened}", timeout=5) as response:
        body = json.loads(response.read())
    assert body["format"] == "DOCKER"
    assert body["cleanupPolicies"]["delete-untagged"]["condition"]["olderThan"] == "604800.5s"
    with urllib.request.urlopen(
        f"{fake.endpoint}/v1/{standard.hardened}?%24alt=json%3Benum-encoding%3Dint", timeout=5
    ) as response:
        assert json.loads(response.read())["format"] == 1


def test_synthetic_images_are_computed_not_stored() -> None:
    images = SyntheticImages(100_000)
    assert len(images) == 100_000
    assert images[99_999].tags == ("v99999", "latest")
    assert images[-1] == images[99_999]
    assert images[5].digest != images[6].digest
    with pytest.raises(IndexError):
        images[100_000]


# ---------------------------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------------------------

_SECONDS = st.integers(min_value=-315_576_000_000, max_value=315_576_000_000)
_NANOS = st.integers(min_value=0, max_value=999_999_999)


@given(_SECONDS, _NANOS)
def test_duration_parser_agrees_with_protobuf(seconds: int, nanos: int) -> None:
    if seconds < 0 and nanos:
        nanos = -nanos  # protobuf: seconds and nanos share a sign
    pb = duration_pb2.Duration(seconds=seconds, nanos=nanos)
    text = pb.ToJsonString()
    assert parse_protobuf_duration(text) == protobuf_duration_seconds(pb)
    assert protobuf_duration_seconds(text) == pytest.approx(seconds + nanos / 1e9, abs=1e-6)


@given(st.text(alphabet="0123456789.-+s eE_dhm", max_size=14))
def test_duration_parser_is_strict_and_never_disagrees(text: str) -> None:
    try:
        value = parse_protobuf_duration(text)
    except ValueError:
        return
    reference = duration_pb2.Duration()
    reference.FromJsonString(text)  # whatever we accept, protobuf accepts too, with the same value
    assert value == pytest.approx(reference.seconds + reference.nanos / 1e9, abs=1e-6)


@pytest.mark.parametrize(
    "text", ["30d", "86400", "1.5 s", "+5s", "1_000s", "s", ".5s", "1.0000000001s", "", "-s"]
)
def test_duration_parser_rejects_non_canonical(text: str) -> None:
    with pytest.raises(ValueError):
        parse_protobuf_duration(text)


def test_duration_examples() -> None:
    assert parse_protobuf_duration("86400s") == 86_400.0
    assert parse_protobuf_duration("2592000s") == 30 * 86_400.0
    assert parse_protobuf_duration("0.5s") == 0.5
    assert parse_protobuf_duration("-1.000000001s") == -1.000000001


def test_no_google_credentials_keeps_google_auths_setup_hint(tmp_path: pathlib.Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """With no credentials anywhere, the read error carries google-auth's own hint on setting them up. (No
    credentials file, an empty gcloud config and no metadata-server check: google-auth fails before any network.)"""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    result = scan_artifact_registry(PROJECT, LOCATION, endpoint="https://127.0.0.1:9")
    (error,) = result.errors
    assert error.target == PARENT and not result.state.repositories
    assert "no Google credentials" in error.message and "set-up-adc" in error.message
