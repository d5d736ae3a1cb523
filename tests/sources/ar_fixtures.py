"""A small Artifact Registry estate for the fake: one repository per thing the rules look for.

Importable from tests (tests/sources is on sys.path under pytest's default import mode) and
usable by benchmarks that want the same shapes at scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from localdev.artifact_registry import (
    FakeDockerImage,
    FakeEstate,
    SyntheticImages,
    binding,
    cleanup_policy,
    fake_digest,
)

PROJECT = "ml-prod"
LOCATION = "europe-west4"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"
DAY = 86_400
KMS_KEY = f"projects/{PROJECT}/locations/{LOCATION}/keyRings/registry/cryptoKeys/images"
PUBLIC_CONDITION = "request.time < timestamp('2030-01-01T00:00:00Z')"


def repo_name(repository_id: str) -> str:
    return f"{PARENT}/repositories/{repository_id}"


@dataclass(frozen=True)
class StandardEstate:
    estate: FakeEstate
    mutable: str
    public: str
    risky_cleanup: str
    unscanned: str
    hardened: str
    big: str | None  # the paged repository, when images were asked for

    @property
    def all(self) -> tuple[str, ...]:
        names = (self.mutable, self.public, self.risky_cleanup, self.unscanned, self.hardened)
        return (*names, self.big) if self.big else names


def standard_estate(big_images: int = 0) -> StandardEstate:
    """Five repositories (mutable tags, public IAM, risky cleanup, scanning disabled, hardened)
    and, with `big_images`, a sixth holding that many synthetic images."""
    estate = FakeEstate()
    # Defaults everywhere: no dockerConfig (mutable), no scanning config (UNSPECIFIED).
    mutable = estate.add_repository(PROJECT, LOCATION, "mutable-tags", description="defaults")
    estate.add_images(
        mutable,
        [
            FakeDockerImage(
                "models/llm",
                fake_digest("llm-1"),
                ("v1", "stable"),
                123_456_789,
                "2025-01-02T03:04:05.678Z",
                build_time="2025-01-02T03:00:00Z",
            ),
            FakeDockerImage("models/llm", fake_digest("llm-2"), (), 42, "2025-02-01T00:00:00Z"),
            FakeDockerImage("team/a b/ranker", fake_digest("ranker"), ("latest",), 7, "2025-03-01T00:00:00Z"),
        ],
    )
    estate.set_iam_policy(
        mutable,
        [
            binding("roles/artifactregistry.writer", ["serviceAccount:ci@ml-prod.iam.gserviceaccount.com"]),
        ],
    )

    public = estate.add_repository(
        PROJECT, LOCATION, "public-models", immutable_tags=True, scanning="INHERITED"
    )
    estate.set_iam_policy(
        public,
        [
            binding(
                "roles/artifactregistry.reader",
                ["allUsers"],
                condition_expression=PUBLIC_CONDITION,
                condition_title="until 2030",
                condition_description="temporary demo access",
            ),
            binding("roles/artifactregistry.reader", ["group:ml@example.com", "user:ana@example.com"]),
        ],
    )

    risky = estate.add_repository(
        PROJECT,
        LOCATION,
        "risky-cleanup",
        immutable_tags=True,
        cleanup_policies=[
            cleanup_policy("delete-old", "DELETE", tag_state="ANY", older_than=30 * DAY),
        ],
    )

    unscanned = estate.add_repository(
        PROJECT,
        LOCATION,
        "unscanned",
        immutable_tags=True,
        scanning="DISABLED",
        scanning_state_reason="Repository config disabled",
    )

    hardened = estate.add_repository(
        PROJECT,
        LOCATION,
        "hardened",
        immutable_tags=True,
        scanning="INHERITED",
        kms_key_name=KMS_KEY,
        labels={"team": "ml", "env": "prod"},
        cleanup_policy_dry_run=True,
        size_bytes=10_000_000,
        cleanup_policies=[
            cleanup_policy(
                "delete-untagged",
                "DELETE",
                tag_state="UNTAGGED",
                older_than="604800.5s",
                package_name_prefixes=["models/"],
            ),
            cleanup_policy("keep-releases", "KEEP", tag_state="TAGGED", tag_prefixes=["v", "release-"]),
            cleanup_policy("keep-recent", "KEEP", keep_count=10, most_recent_package_prefixes=["models/"]),
        ],
    )
    estate.set_iam_policy(
        hardened,
        [
            binding(
                "roles/artifactregistry.reader", ["serviceAccount:serving@ml-prod.iam.gserviceaccount.com"]
            ),
        ],
    )

    big = None
    if big_images:
        big = estate.add_repository(PROJECT, LOCATION, "zz-big", immutable_tags=True)
        estate.add_images(big, SyntheticImages(big_images, packages=7, package_prefix="models/family-"))
    return StandardEstate(estate, mutable, public, risky, unscanned, hardened, big)
