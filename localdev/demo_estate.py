"""The seeded estate the demo and the end-to-end tests scan: every problem the audit must find.

One place so that the README's demo and the tests agree on what "the seeded registry" holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .artifact_registry import FakeDockerImage, FakeEstate, binding, cleanup_policy, fake_digest
from .cosign import new_key, public_pem, sign_image
from .gcs_emulator import GcsEmulator, create_bucket, create_gcr_bucket, gcr_bucket_name
from .google_iam import IamEstate
from .oci_push import delete_manifest, push_image

PROJECT = "demo-project"
LOCATION = "us-central1"
KMS_KEY = f"projects/{PROJECT}/locations/{LOCATION}/keyRings/models/cryptoKeys/registry"
CI_ACCOUNT = f"ci-push@{PROJECT}.iam.gserviceaccount.com"
ORGANIZATION = "organizations/1234567890"
FOLDER = "folders/456"


@dataclass(frozen=True)
class SeededOci:
    """Digests the OCI registry was seeded with, keyed (repository, tag)."""

    digests: dict[tuple[str, str], str]


def seed_oci(base_url: str) -> SeededOci:
    """Model repositories on a real registry: versioned images, one tagged only `latest`, one only `dev`."""
    digests: dict[tuple[str, str], str] = {}

    def push(repo: str, tags: list[str], seed: str) -> None:
        digest = push_image(base_url, repo, tags, content_seed=seed)
        for tag in tags:
            digests[(repo, tag)] = digest

    push("models/sentiment", ["v1.0.0"], "sentiment-1.0.0")
    push("models/sentiment", ["v1.1.0", "latest"], "sentiment-1.1.0")
    push("models/llm", ["v2.0.0"], "llm-2.0.0")
    push("models/llm", ["v2.1.0-rc.1"], "llm-2.1.0-rc.1")
    push("models/llm", ["latest"], "llm-nightly")
    push("models/vision", ["dev"], "vision-dev")
    push("models/vision", ["1.0.0"], "vision-1.0.0")
    return SeededOci(digests)


def sign_releases(base_url: str, seeded: SeededOci) -> dict[str, Any]:
    """Sign models/sentiment's released versions as cosign does, with a key minted here, and return the settings
    that require them signed by that key (the re-pushed v1.0.0 of `tamper_oci` is then unsigned)."""
    key = new_key()
    for tag in ("v1.0.0", "v1.1.0"):
        sign_image(base_url, "models/sentiment", seeded.digests[("models/sentiment", tag)], key)
    return {"signedReleases": ["*/models/sentiment:v*"],
            "trustedKeys": [{"name": "ml-release", "publicKey": public_pem(key)}]}


def tamper_oci(base_url: str, seeded: SeededOci) -> None:
    """What happens between two nightly scans: a released version is re-pushed with new content and
    another released version is deleted."""
    push_image(base_url, "models/sentiment", ["v1.0.0"], content_seed="sentiment-1.0.0-hotfix")
    delete_manifest(base_url, "models/llm", seeded.digests[("models/llm", "v2.0.0")])


def seed_gcs(emulator: GcsEmulator) -> tuple[str, str]:
    """A public Container Registry bucket (the user's original example, made worse) and a hardened one.
    Returns (risky bucket, hardened bucket)."""
    client = emulator.client()
    risky = create_gcr_bucket(
        client, PROJECT,
        bindings=[
            {"role": "roles/storage.objectViewer", "members": ["allUsers"]},
            {"role": "roles/storage.admin", "members": ["user:member-id@example.com"]},
        ],
        acl=[("allUsers", "READER")],
    )
    hardened = create_bucket(
        client, gcr_bucket_name(PROJECT, "eu"), uniform_access=True, public_access_prevention="enforced",
        bindings=[
            {"role": "roles/storage.objectViewer", "members": ["group:ml-readers@example.com"]},
            {"role": "roles/storage.legacyBucketWriter",
             "members": ["serviceAccount:ci-push@demo-project.iam.gserviceaccount.com"]},
        ],
    )
    return risky.name, hardened.name


def seed_artifact_registry(estate: FakeEstate, now: datetime | None = None) -> dict[str, str]:
    """A hardened repository and a risky one (mutable tags, public IAM, a cleanup policy that would delete
    released versions, scanning disabled). Returns {short name: full name}."""
    now = now or datetime.now(UTC)

    def stamp(days_ago: int) -> str:
        return (now - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    hardened = estate.add_repository(
        PROJECT, LOCATION, "models-hardened", immutable_tags=True, kms_key_name=KMS_KEY,
        labels={"owner": "ml-platform", "model": "sentiment"},
        cleanup_policies=[
            cleanup_policy("keep-versions", "KEEP", tag_state="TAGGED", tag_prefixes=["v"]),
            cleanup_policy("keep-recent", "KEEP", keep_count=10),
            cleanup_policy("delete-untagged", "DELETE", tag_state="UNTAGGED", older_than=14 * 86400),
        ],
    )
    estate.set_iam_policy(hardened, [
        binding("roles/artifactregistry.reader", ["group:ml-readers@example.com"]),
        binding("roles/artifactregistry.writer", ["serviceAccount:ci-push@demo-project.iam.gserviceaccount.com"]),
    ])
    estate.add_images(hardened, [
        FakeDockerImage("sentiment", fake_digest("h-1"), ("v1.0.0",), 120_000_000, stamp(90)),
        FakeDockerImage("sentiment", fake_digest("h-2"), ("v1.1.0", "latest"), 121_000_000, stamp(3)),
    ])
    risky = estate.add_repository(
        PROJECT, LOCATION, "models-risky", immutable_tags=False, scanning="DISABLED",
        labels={"owner": "ml-research"},
        cleanup_policies=[cleanup_policy("delete-old", "DELETE", tag_state="ANY", older_than=30 * 86400)],
    )
    estate.set_iam_policy(risky, [
        binding("roles/artifactregistry.reader", ["allUsers"],
                condition_expression='request.time < timestamp("2030-01-01T00:00:00Z")',
                condition_title="temporary-share"),
        binding("roles/artifactregistry.repoAdmin", ["user:alice@example.com"]),
        binding("roles/artifactregistry.writer", ["user:bob@gmail.com"]),
    ])
    estate.add_images(risky, [
        FakeDockerImage("llm", fake_digest("r-1"), ("v0.9.0",), 800_000_000, stamp(200)),
        FakeDockerImage("llm", fake_digest("r-2"), ("v1.0.0",), 810_000_000, stamp(10)),
        FakeDockerImage("llm", fake_digest("r-3"), ("latest",), 812_000_000, stamp(1)),
    ])
    return {"models-hardened": hardened, "models-risky": risky}


def seed_hierarchy(estate: IamEstate) -> None:
    """What lies above the demo project, for `scan --effective-access`: the organization and a folder "ml"
    (whose IAM grants ml-leads Artifact Registry admin on everything below it: an inherited admin grant), and
    the CI service account that pushes to the hardened repository and bucket, whose IAM lets a person create
    its tokens (an impersonation path), and lets the training pipeline's account do the same, which another
    person may act as (a chain of two accounts)."""
    organization = estate.add_organization(ORGANIZATION.split("/", 1)[1], "example.com")
    folder = estate.add_folder(FOLDER.split("/", 1)[1], organization, "ml")
    estate.add_project(PROJECT, folder, number="200000000001")
    estate.set_policy(organization, [binding("roles/resourcemanager.organizationViewer", ["domain:example.com"])])
    estate.set_policy(folder, [binding("roles/artifactregistry.admin", ["group:ml-leads@example.com"])])
    estate.set_policy(f"projects/{PROJECT}", [binding("roles/viewer", ["group:ml-readers@example.com"])])
    estate.add_service_account(PROJECT, "ci-push")
    estate.add_service_account(PROJECT, "nightly-train")
    trainer = f"nightly-train@{PROJECT}.iam.gserviceaccount.com"
    estate.set_policy(f"projects/{PROJECT}/serviceAccounts/{CI_ACCOUNT}",
                      [binding("roles/iam.serviceAccountTokenCreator",
                               ["user:carol@example.com", f"serviceAccount:{trainer}"])])
    estate.set_policy(f"projects/{PROJECT}/serviceAccounts/{trainer}",
                      [binding("roles/iam.serviceAccountUser", ["user:dan@example.com"])])
