"""One answer to "is this a Container Registry bucket?", the same at deploy time and at night."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from registry_guard.catalogue.container_registry import (
    ContainerRegistryBucket,
    container_registry_bucket_name,
    container_registry_of_bucket,
)
from registry_guard.pulumi_properties.adapt import adapt
from registry_guard.pulumi_properties.types import BUCKET, CONTAINER_REGISTRY

from audit.sources.gcs_bucket import read_gcr_bucket

ACCEPTED = [
    ("artifacts.p.appspot.com", "gcr.io", "p", "gcr.io/p"),
    ("us.artifacts.p.appspot.com", "us.gcr.io", "p", "us.gcr.io/p"),
    ("eu.artifacts.ml-prod.appspot.com", "eu.gcr.io", "ml-prod", "eu.gcr.io/ml-prod"),
    ("asia.artifacts.p-1.appspot.com", "asia.gcr.io", "p-1", "asia.gcr.io/p-1"),
    # The pack used to lowercase and the audit did not: bucket names are lowercase, case is ignored.
    ("EU.Artifacts.P.appspot.com", "eu.gcr.io", "p", "eu.gcr.io/p"),
    # Domain-scoped project example.com:ml-prod (the audit used to read its project as "ml-prod.example.com.a").
    ("artifacts.ml-prod.example.com.a.appspot.com", "gcr.io", "example.com:ml-prod", "gcr.io/example.com/ml-prod"),
    ("eu.artifacts.ml-prod.corp.example.co.uk.a.appspot.com", "eu.gcr.io", "corp.example.co.uk:ml-prod",
     "eu.gcr.io/corp.example.co.uk/ml-prod"),
    # A plain project whose ID merely spells a domain is a plain project.
    ("artifacts.example-com-project.appspot.com", "gcr.io", "example-com-project", "gcr.io/example-com-project"),
]

REJECTED = [
    # Accepted by the pack (any lowercase prefix), refused by the audit: not a Container Registry region.
    "xx.artifacts.p.appspot.com",
    "staging.artifacts.p.appspot.com",
    "europe.artifacts.p.appspot.com",
    # Accepted by both before, with a project ID that cannot exist (dots, no `.a` domain form).
    "artifacts.p.q.appspot.com",
    "us.artifacts.my.proj.appspot.com",
    # Accepted by the audit (project `.+`), refused by the pack: not a project ID.
    "artifacts.my_proj.appspot.com",
    "artifacts.-p.appspot.com",
    "artifacts.p-.appspot.com",
    # A domain needs at least two labels; a region is only a prefix.
    "artifacts.p.corp.a.appspot.com",
    "artifacts.us.appspot.com.evil",
    "artifacts.p.appspot.com.evil",
    "artifacts..appspot.com",
    "artifacts.appspot.com",
    "us.artifacts.appspot.com",
    ".artifacts.p.appspot.com",
    "us.eu.artifacts.p.appspot.com",
    "artifacts.p.appspot.com.",
    "staging.p.appspot.com",
    "p.appspot.com",
    "artifacts-p",
    "",
]


@pytest.mark.parametrize(("name", "host", "project", "registry"), ACCEPTED)
def test_accepted_names(name: str, host: str, project: str, registry: str) -> None:
    parsed = container_registry_of_bucket(name)
    assert parsed == ContainerRegistryBucket(host, project)
    assert parsed.registry == registry


@pytest.mark.parametrize("name", REJECTED)
def test_rejected_names(name: str) -> None:
    assert container_registry_of_bucket(name) is None


@pytest.mark.parametrize("project", ["p", "ml-prod", "example.com:ml-prod"])
@pytest.mark.parametrize(("location", "host"), [(None, "gcr.io"), ("US", "us.gcr.io"), ("EU", "eu.gcr.io"),
                                                 ("asia", "asia.gcr.io")])
def test_bucket_name_round_trips(project: str, location: str | None, host: str) -> None:
    name = container_registry_bucket_name(project, location)
    assert name == name.lower()
    assert container_registry_of_bucket(name) == ContainerRegistryBucket(host, project)


def test_domain_scoped_bucket_name_is_the_cloud_sdk_one() -> None:
    name = container_registry_bucket_name("example.com:ml-prod", "EU")
    assert name == "eu.artifacts.ml-prod.example.com.a.appspot.com"


def _deploy_verdict(name: str) -> bool:
    adapted = adapt(BUCKET, {"name": name}, urn="urn:bucket")
    assert adapted is not None
    (bucket,) = adapted.state.buckets
    return bucket.is_container_registry


def _nightly_verdict(name: str) -> tuple[bool, tuple[str, ...]]:
    """The audit's bucket source on a client that answers with one hardened, empty bucket."""
    live = SimpleNamespace(
        iam_configuration=SimpleNamespace(uniform_bucket_level_access_enabled=True,
                                          public_access_prevention="enforced"),
        get_iam_policy=lambda **_: SimpleNamespace(bindings=[]),
    )

    def get_bucket(bucket_name: str, **_: Any) -> Any:
        assert bucket_name == name
        return live

    scan = read_gcr_bucket(name, client=SimpleNamespace(get_bucket=get_bucket))
    assert scan.complete
    (bucket,) = scan.state.buckets
    return bucket.is_container_registry, tuple(r.ref.name for r in scan.state.legacy_registries)


@pytest.mark.parametrize("name", [n for n, *_ in ACCEPTED] + REJECTED)
def test_deploy_time_and_nightly_audit_agree(name: str) -> None:
    expected = container_registry_of_bucket(name)
    assert _deploy_verdict(name) is (expected is not None)
    assert _nightly_verdict(name) == (expected is not None, (expected.registry,) if expected else ())


def test_declared_registry_meets_its_live_bucket() -> None:
    """A `gcp.container.Registry` names the bucket and registry the audit finds for it."""
    adapted = adapt(CONTAINER_REGISTRY, {"location": "EU", "project": "example.com:ml-prod"}, urn="urn:gcr")
    assert adapted is not None
    (declared,) = adapted.state.legacy_registries
    _, live_registries = _nightly_verdict(str(declared.bucket))
    assert declared.bucket == "eu.artifacts.ml-prod.example.com.a.appspot.com"
    assert live_registries == (declared.ref.name,) == ("eu.gcr.io/example.com/ml-prod",)
