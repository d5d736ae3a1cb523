"""Constants and helpers for the stack tests (a uniquely named module, so importing it can never pick
up another directory's conftest)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from audit.sources.stack_program import StackRun

REPO_ROOT = Path(__file__).resolve().parents[2]
MAIN_PROGRAM = REPO_ROOT / "__main__.py"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROJECT = "ml-models-prod"

AR_REPOSITORY = "gcp:artifactregistry/repository:Repository"
AR_IAM_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
GCR_REGISTRY = "gcp:container/registry:Registry"
BUCKET_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
BUCKET_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
COMPONENT = "model-registry-guard:index:ModelRegistry"

RunStack = Callable[[Mapping[str, str]], StackRun]
FailStack = Callable[[Mapping[str, str]], str]


def with_project(config: Mapping[str, str]) -> dict[str, str]:
    """Config as the CLI passes it: `project:key` to string; gcp:project unless the test overrides it."""
    return {
        "gcp:project": PROJECT,
        **{k if ":" in k else f"model-registry:{k}": v for k, v in config.items()},
    }
