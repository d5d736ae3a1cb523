"""Hypothesis fuzzes every parser the audit feeds with outside input: each either succeeds or
raises its documented one-line error type, never anything else. The registry JSON handling is
fuzzed over real HTTP (a stub serving catalog and tags/list bodies): the scan never raises, it
only records errors."""

from __future__ import annotations

import asyncio
import copy
import json
import tempfile
import threading
import zlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from registry_guard.catalogue.findings import Finding
from registry_guard.catalogue.judge import judge
from registry_guard.catalogue.model import Image, RegistryState, ResourceRef
from registry_guard.catalogue.rule import Inputs, Stage
from registry_guard.catalogue.settings import Settings, SettingsError

from audit.errors import ScanError
from audit.formats.json_report import validate
from audit.merge import merge_reports
from audit.report import build_report, inventory_of, report_from_json
from audit.settings_file import load_settings
from audit.sources.history import HistoryError, LocalHistory, Snapshot
from audit.sources.oci import (
    BearerChallenge,
    parse_link_next,
    parse_retry_after,
    parse_www_authenticate,
    scan_oci_registry_async,
)
from audit.sources.oci.client import FetchError, HttpClient
from audit.sources.oci.limits import Limits
from audit.sources.oci.wire import Reply
from audit.sources.stack_export import DeclaredState, StackExportError, parse_stack_export
from audit.waivers import WaiverError, load_waivers
from localdev.hostile_registry import Answer, HostileRegistry, Request, plain

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=25)


def _one_line(exc: BaseException) -> None:
    text = str(exc)
    assert text and "\n" not in text.strip(), repr(text)


# ---------------------------------------------------------------------------------------------
# Stack export

RESOURCE_TYPES = [
    "gcp:artifactregistry/repository:Repository", "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding",
    "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy", "gcp:storage/bucket:Bucket",
    "gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:storage/bucketIAMBinding:BucketIAMBinding",
    "gcp:storage/bucketIAMPolicy:BucketIAMPolicy", "gcp:storage/bucketAccessControl:BucketAccessControl",
    "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl", "gcp:storage/bucketACL:BucketACL",
    "gcp:projects/iAMMember:IAMMember", "gcp:container/registry:Registry", "pulumi:providers:gcp",
]
PROP_KEYS = ["project", "location", "repositoryId", "name", "format", "mode", "dockerConfig", "immutableTags",
             "cleanupPolicies", "cleanupPolicyDryRun", "kmsKeyName", "labels", "vulnerabilityScanningConfig",
             "repository", "role", "member", "members", "condition", "policyData", "bucket", "entity",
             "uniformBucketLevelAccess", "publicAccessPrevention", "predefinedAcl", "roleEntities", "defaultAcl",
             "bindings", "action", "tagState", "tagPrefixes", "olderThan", "keepCount", "mostRecentVersions"]
plausible_values = (json_values | st.sampled_from(["allUsers", "user:a@b.c", "roles/owner", "DOCKER", "enforced",
                                                   "86400s", "projects/p/locations/l/repositories/r"])
                    | st.lists(st.sampled_from(["allUsers", "user:a@b.c", "group:g@b.c"]), max_size=3))
props = st.dictionaries(st.sampled_from(PROP_KEYS), plausible_values, max_size=6)
resources = st.fixed_dictionaries(
    {"type": st.sampled_from(RESOURCE_TYPES), "urn": st.text(max_size=30).map(lambda s: f"urn:pulumi:s::p::t::{s}")},
    optional={"custom": st.booleans(), "inputs": props | json_values, "outputs": props | json_values,
              "delete": st.booleans(), "sourcePosition": st.text(max_size=30)})
stack_exports = st.fixed_dictionaries(
    {"version": st.sampled_from([3, 3, 3, 2, "3"]),
     "deployment": st.fixed_dictionaries({}, optional={"resources": st.lists(resources | json_values, max_size=5)})
     | json_values})


@FUZZ
@given(document=stack_exports | json_values)
def test_stack_export_parser(document: Any) -> None:
    try:
        result = parse_stack_export(document, "stack.json")
    except StackExportError as exc:
        _one_line(exc)
    else:
        assert isinstance(result, DeclaredState)


# ---------------------------------------------------------------------------------------------
# Settings and waivers (files: the loaders read text)

def _yaml_or_json_texts() -> st.SearchStrategy[str]:
    structured = json_values.map(json.dumps)
    settings_like = st.dictionaries(
        st.sampled_from(["allowedAdmins", "versionTagPattern", "requiredLabels", "adminRoles", "all",
                         "no-broad-admin", "version-tag-required", "enforcementLevel", "bogus"]),
        json_values | st.lists(st.text(max_size=10), max_size=3) | st.text(max_size=15), max_size=4).map(json.dumps)
    return structured | settings_like | st.text(max_size=80)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


@FUZZ
@given(text=_yaml_or_json_texts(), suffix=st.sampled_from([".yaml", ".json"]))
@example(text="allowedAdmins: !!python/object:os.system x", suffix=".yaml")
@example(text="versionTagPattern: '(['", suffix=".yaml")
@example(text='{"versionTagPattern":""}', suffix=".yaml")  # a minLength error was once a TypeError
def test_settings_loader(scratch: Path, text: str, suffix: str) -> None:
    path = scratch / f"settings{suffix}"
    path.write_text(text, encoding="utf-8")
    try:
        result = load_settings(path)
    except SettingsError as exc:
        _one_line(exc)
    else:
        assert isinstance(result, Settings)


waiver_entries = st.fixed_dictionaries({}, optional={
    "rule": st.sampled_from(["no-public-access", "no-broad-admin", "nope"]) | json_values,
    "resource": st.text(max_size=20) | json_values, "justification": st.text(max_size=10) | json_values,
    "owner": st.text(max_size=10) | json_values,
    "expires": st.dates().map(str) | st.text(max_size=12) | json_values, "extra": json_values,
})
waiver_docs = st.fixed_dictionaries({"waivers": st.lists(waiver_entries | json_values, max_size=4)}) | json_values


_WAIVER = "waivers:\n- rule: no-public-access\n  resource: x\n  justification: j\n  owner: o\n  expires: "


@FUZZ
@given(text=waiver_docs.map(json.dumps) | st.text(max_size=80))
@example(text=_WAIVER + "2030-02-30\n")
@example(text=_WAIVER + "2030-01-01 10:00:00\n")
def test_waivers_loader(scratch: Path, text: str) -> None:
    path = scratch / "waivers.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        result = load_waivers(path)
    except WaiverError as exc:
        _one_line(exc)
    else:
        assert isinstance(result, tuple)


# ---------------------------------------------------------------------------------------------
# History snapshots

image_entries = st.fixed_dictionaries({}, optional={
    "repository": st.text(max_size=10) | json_values, "package": st.text(max_size=10) | json_values,
    "digest": st.text(max_size=10) | json_values, "tags": st.lists(st.text(max_size=5), max_size=3) | json_values})
snapshots = st.fixed_dictionaries({}, optional={
    "format": st.sampled_from([1, 1, 2, "1"]) | json_values,
    "taken_at": st.datetimes().map(datetime.isoformat) | st.text(max_size=20) | json_values,
    "images": st.lists(image_entries | json_values, max_size=4) | json_values,
    "carried_forward": st.lists(st.text(max_size=5), max_size=2) | json_values,
    "findings": st.lists(st.fixed_dictionaries({"fingerprint": st.text(max_size=8)}) | json_values, max_size=3)
    | json_values})


chained = st.fixed_dictionaries({"format": st.just(2)}, optional={
    "sequence": st.integers(-2, 10**13) | json_values,
    "taken_at": st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat) | st.datetimes().map(datetime.isoformat)
    | st.text(max_size=20),
    "previous": st.none() | st.fixed_dictionaries({}, optional={
        "name": st.text(max_size=20), "digest": st.just("sha256:" + "a" * 64) | st.text(max_size=10),
        "sequence": st.none() | st.integers(-1, 10**13)}) | json_values,
    "carried_forward": st.lists(st.text(max_size=5), max_size=2) | json_values,
    "images": st.lists(image_entries | json_values, max_size=4) | json_values,
    "findings": st.lists(st.fixed_dictionaries({"fingerprint": st.text(max_size=8)}), max_size=2) | json_values})


@FUZZ
@given(data=chained | snapshots | json_values)
def test_snapshot_parser(data: Any) -> None:
    try:
        snapshot = Snapshot.from_json(data, "snap.json")
    except HistoryError as exc:
        _one_line(exc)
    else:
        assert isinstance(snapshot, Snapshot) and snapshot.taken_at.tzinfo is not None
        again = Snapshot.from_bytes(snapshot.to_bytes(), "again.json")  # what was accepted is written as valid
        assert again.sequence == snapshot.sequence and again.images == snapshot.images


SNAPSHOT_NAMES = ["000000000001.json", "000000000002.json", "000000000003.json", "000000000009.json",
                  "20260101T000000000000Z-0123456789ab.json", "notes.json", ".tmp-1.json"]


@FUZZ
@given(files=st.dictionaries(st.sampled_from(SNAPSHOT_NAMES),
                             st.binary(max_size=48) | (chained | snapshots).map(lambda d: json.dumps(d).encode()),
                             max_size=4),
       seconds=st.integers(-10**6, 10**6))
def test_history_read_and_integrity_judgement(scratch: Path, files: dict[str, bytes], seconds: int) -> None:
    """Whatever a history folder holds, reading it either works or is one HistoryError; the chain it yields
    is judged without error, and the next snapshot can be committed after it."""
    directory = Path(tempfile.mkdtemp(dir=scratch))
    (directory / "snapshots").mkdir()
    for name, data in files.items():
        (directory / "snapshots" / name).write_bytes(data)
    history = LocalHistory(directory)
    try:
        read = history.read()
    except HistoryError as exc:
        _one_line(exc)
        return
    now = datetime(2026, 6, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    if read.chain is not None:
        previous = RegistryState(images=read.previous.images if read.previous else (), history=read.chain)
        judged = judge(Inputs(RegistryState(observed_at=now), previous=previous), Stage.HISTORY,
                       ["history-integrity"])
        assert all(f.message and "\n" not in f.message for f in judged.findings)
    where = history.commit(Snapshot(now, ()), read)
    assert Path(where).name == f"{read.next_sequence:012d}.json"
    assert Snapshot.from_bytes(Path(where).read_bytes(), where).sequence == read.next_sequence


# ---------------------------------------------------------------------------------------------
# Saved reports: whatever passes the schema can be read back

def _valid_report() -> dict[str, Any]:
    now = datetime.now(UTC)
    repo = ResourceRef("repository", "127.0.0.1:5000")
    state = RegistryState(images=(Image(repo, "models/a", "sha256:" + "a" * 64, ("dev",)),), observed_at=now)
    finding = Finding("version-tag-required", "image:127.0.0.1:5000/models/a@sha256:" + "a" * 64, "tagged only dev",
                      {"tags": ["dev"], "package": "models/a"})
    report = build_report(generated_at=now, target={"registries": []}, errors=[ScanError("oci", "x", "HTTP 500")],
                          findings=[finding], undetermined=[], inventory=inventory_of(state),
                          rules_evaluated=["version-tag-required"], timings={"total": 0.1})
    document = report.to_json()
    validate(document)
    return document


BASE_REPORT = _valid_report()
report_paths = st.sampled_from([
    ("generated_at",), ("target",), ("complete",), ("errors",), ("findings",), ("findings", 0),
    ("findings", 0, "evidence"), ("findings", 0, "remediation"), ("findings", 0, "frameworks"),
    ("findings", 0, "waiver"), ("findings", 0, "trend"), ("findings", 0, "severity"), ("undetermined",),
    ("inventory",), ("history",), ("waivers",), ("resolved",), ("timings",), ("summary",), ("kind",),
    ("rules_evaluated",), ("errors", 0), ("errors", 0, "message"),
])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(report_paths, json_values | st.datetimes().map(datetime.isoformat)), max_size=3))
def test_report_reader_after_schema_validation(edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    document = copy.deepcopy(BASE_REPORT)
    for path, value in edits:
        target: Any = document
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        validate(document)
    except jsonschema.ValidationError:
        return
    try:
        report = report_from_json(document)  # schema-valid: loads, or names the field it cannot read
    except ValueError as exc:
        _one_line(exc)
        return
    assert report.complete is (document["complete"] and not document["errors"])
    json.dumps(report.to_json())


# ---------------------------------------------------------------------------------------------
# Merging shard reports: a merged report or one refusing line, and complete only when every shard is

def _shard(index: int) -> dict[str, Any]:
    document = copy.deepcopy(BASE_REPORT)
    document["errors"], document["complete"] = [], True
    document["target"] = {"registries": [{"url": "http://127.0.0.1:5000", "repositories": index}],
                          "history": f"/h/shard-{index}-of-2", "shard": {"index": index, "count": 2}}
    return document


shard_paths = st.sampled_from([
    ("target", "shard", "index"), ("target", "shard", "count"), ("target", "shard"), ("target", "registries"),
    ("target", "history"), ("target", "gcr_buckets"), ("target", "artifact_registry"), ("kind",), ("complete",),
    ("errors",), ("inventory", "repositories"), ("inventory", "repositories", 0), ("inventory", "buckets"),
])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(0, 1), shard_paths, json_values | st.integers(-3, 10**13)), max_size=3),
       keep=st.sampled_from([(0, 1), (0,), (1, 0), (0, 0)]))
def test_merge_of_edited_shards(edits: list[tuple[int, tuple[Any, ...], Any]], keep: tuple[int, ...]) -> None:
    documents = [_shard(0), _shard(1)]
    for which, path, value in edits:
        target: Any = documents[which]
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        for document in documents:
            validate(document)
    except jsonschema.ValidationError:
        return
    try:
        merged = merge_reports([(f"shard{i}.json", documents[i]) for i in keep])
    except ValueError as exc:
        _one_line(exc)
        return
    if merged.complete:
        assert sorted(keep) == [0, 1] and all(d["complete"] and not d["errors"] for d in documents)


# ---------------------------------------------------------------------------------------------
# OCI header parsers: total functions over any text

@FUZZ
@given(header=st.text(max_size=120) | st.from_regex(r'Bearer realm="[^"]*"(,\w+="[^"]*")*', fullmatch=True))
def test_www_authenticate_parser(header: str) -> None:
    result = parse_www_authenticate(header)
    assert result is None or (isinstance(result, BearerChallenge) and result.realm)


@FUZZ
@given(header=st.text(max_size=120) | st.from_regex(r'<[^>]*>(; ?\w+="?[\w ]*"?)*(, <[^>]*>; rel="?next"?)?',
                                                    fullmatch=True))
def test_link_parser(header: str) -> None:
    result = parse_link_next(header)
    assert result is None or isinstance(result, str)


@FUZZ
@given(header=st.none() | st.text(max_size=60) | st.integers(-10, 10**30).map(str)
       | st.datetimes(timezones=st.just(UTC)).map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")))
@example(header="Fri, 31 Dec 9999 23:59:59 GMT")
@example(header="Mon, 01 Jan 0001 00:00:00 GMT")
def test_retry_after_parser(header: str | None) -> None:
    result = parse_retry_after(header)
    assert result is None or (isinstance(result, float) and result >= 0)


# ---------------------------------------------------------------------------------------------
# Registry JSON over HTTP: fuzzed catalog and tags/list bodies from a stub

class _RegistryStub:
    """Serves `catalog` and `tags` bodies (bytes, content type) set per example; HEAD answers a digest."""

    def __init__(self) -> None:
        self.catalog: tuple[bytes, str, dict[str, str]] = (b'{"repositories": ["a"]}', "application/json", {})
        self.tags: tuple[bytes, str, dict[str, str]] = (b'{"name": "a", "tags": ["v1"]}', "application/json", {})
        lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                with lock:
                    if self.path.startswith("/v2/_catalog"):
                        body, ctype, headers = stub.catalog
                    elif "/tags/list" in self.path:
                        body, ctype, headers = stub.tags
                    else:
                        body, ctype, headers = b"", "application/vnd.oci.image.manifest.v1+json", {
                            "Docker-Content-Digest": "sha256:" + "b" * 64}
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(scope="module")
def registry_stub() -> Iterator[_RegistryStub]:
    stub = _RegistryStub()
    yield stub
    stub.server.shutdown()
    stub.server.server_close()


names = st.text(st.characters(codec="ascii", exclude_characters="?#"), min_size=1, max_size=12)
catalog_bodies = (st.fixed_dictionaries({"repositories": st.lists(names | json_values, max_size=4) | json_values})
                  | json_values).map(json.dumps)
digests = st.sampled_from(["sha256:" + "c" * 64, "sha256:" + "d" * 64, "md5:x", ""]) | st.text(max_size=12)
manifest_maps = st.dictionaries(digests, st.fixed_dictionaries({}, optional={
    "tag": st.lists(st.text(max_size=6), max_size=3) | json_values,
    "timeUploadedMs": st.integers(-10, 10**20).map(str) | json_values, "timeCreatedMs": json_values,
    "imageSizeBytes": st.integers(-1, 10**20).map(str) | json_values}) | json_values, max_size=3)
tag_bodies = (st.fixed_dictionaries({}, optional={
    "name": st.text(max_size=5), "tags": st.lists(st.text(max_size=8), max_size=4) | json_values,
    "manifest": manifest_maps | json_values, "child": st.lists(names, max_size=2) | json_values})
    | json_values).map(json.dumps)
bodies = st.tuples(
    catalog_bodies | st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["application/json", "application/json; charset=utf-8", "text/html", ""]),
    st.sampled_from([{}, {"Link": '</v2/_catalog?n=2&last=a>; rel="next"'},
                     {"Link": "<http://evil.example/x>; rel=next"}, {"Link": "garbage"}]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(catalog=bodies, tags=tag_bodies, tags_type=st.sampled_from(["application/json", "text/plain"]))
def test_registry_json_is_never_fatal(registry_stub: _RegistryStub, catalog: tuple[str, str, dict[str, str]],
                                      tags: str, tags_type: str) -> None:
    registry_stub.catalog = (catalog[0].encode("utf-8", "surrogatepass"), catalog[1], catalog[2])
    registry_stub.tags = (tags.encode(), tags_type, {})
    inventory = asyncio.run(scan_oci_registry_async(registry_stub.url, max_retries=0, timeout=2, concurrency=4))
    for error in inventory.errors:
        assert error.message and "\n" not in error.message
    if inventory.complete:
        assert all(i.digest for i in inventory.images)


# ---------------------------------------------------------------------------------------------
# The OCI scan's limits (audit/sources/oci/limits.py) against a registry of any page shape: the scan ends
# complete exactly when every limit holds, and otherwise names the limit it hit

@pytest.fixture(scope="module")
def paged_registry() -> Iterator[HostileRegistry]:
    with HostileRegistry(plain()) as registry:
        yield registry


def _page_body(page: int, page_size: int) -> bytes:
    return json.dumps({"name": "models/llm", "tags": [f"v{page}.{i}" for i in range(page_size)]}).encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(pages=st.integers(1, 12), page_size=st.integers(0, 12), listing_pages=st.integers(1, 14),
       repository_bytes=st.integers(40, 2_000), scan_names=st.integers(1, 160), gzip=st.booleans(),
       response_bytes=st.integers(40, 400))
def test_oci_limits_hold_for_any_page_shape(paged_registry: HostileRegistry, pages: int, page_size: int,
                                           listing_pages: int, repository_bytes: int, scan_names: int,
                                           gzip: bool, response_bytes: int) -> None:
    def handle(request: Request) -> Answer:
        if not request.route.endswith("/tags/list"):
            return plain()(request)
        page = int(request.param("page") or 0)
        body = _page_body(page, page_size)
        headers = {"Content-Type": "application/json"}
        if gzip:
            body, headers["Content-Encoding"] = zlib.compress(body, wbits=31), "gzip"
        if page + 1 < pages:
            headers["Link"] = f'</v2/models/llm/tags/list?page={page + 1}>; rel="next"'
        return Answer(200, headers, body)

    paged_registry.handler = handle
    limits = Limits(listing_pages=listing_pages, repository_bytes=repository_bytes, scan_names=scan_names,
                    response_bytes=response_bytes)
    inventory = asyncio.run(scan_oci_registry_async(paged_registry.url, environ={}, max_retries=0, timeout=5,
                                                    limits=limits))
    catalog = len(json.dumps({"repositories": ["models/llm"]}))
    sizes = [len(_page_body(p, page_size)) for p in range(pages)]
    within = (pages <= listing_pages and sum(sizes) <= repository_bytes and 1 + pages * page_size <= scan_names
              and max([*sizes, catalog]) <= response_bytes)
    assert inventory.complete is within, (inventory.errors, sizes)
    for error in inventory.errors:
        assert "limit" in error.message and "\n" not in error.message
    if within:
        assert inventory.tags == pages * page_size


class _NoWire:
    async def request(self, method: str, url: str, headers: Mapping[str, str]) -> Reply:
        raise AssertionError("not sent")


@FUZZ
@given(header=st.text(max_size=40) | st.integers(-10, 10**40).map(str) | st.floats().map(str),
       limit=st.floats(0.5, 3600), attempt=st.integers(0, 10))
def test_oci_retry_after_never_waits_past_its_limit(header: str, limit: float, attempt: int) -> None:
    client = HttpClient(_NoWire(), 1, 4, None, limits=Limits(retry_after_seconds=limit))
    retry_after = parse_retry_after(header, now=0.0)
    try:
        wait = client._backoff(attempt, retry_after)
    except FetchError as exc:
        assert retry_after is not None and retry_after > limit and "limit" in str(exc)
    else:
        assert 0 <= wait <= max(limit, client.backoff_cap)


@FUZZ
@given(depth=st.integers(0, 5_000), opener=st.sampled_from([b"[", b'{"a":']), junk=st.binary(max_size=20))
def test_oci_reply_json_is_a_value_or_a_value_error(depth: int, opener: bytes, junk: bytes) -> None:
    closer = b"]" if opener == b"[" else b"}"
    for body in (opener * depth + b"1" + closer * depth, opener * depth + junk):
        try:
            Reply(200, {}, body).json()
        except ValueError as exc:
            _one_line(exc)
