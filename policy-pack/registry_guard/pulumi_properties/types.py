"""The Pulumi type tokens the catalogue reads (pulumi-gcp 10.2.0, pulumi-docker, pulumi-docker-build), and
which subjects of the model each one yields: the pack derives every policy's resource-type filter from it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from ..catalogue.model import GrantShape, Subject, TargetKind

AR_REPOSITORY: Final = "gcp:artifactregistry/repository:Repository"
AR_IAM_MEMBER: Final = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
AR_IAM_BINDING: Final = "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding"
AR_IAM_POLICY: Final = "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy"
BUCKET: Final = "gcp:storage/bucket:Bucket"
BUCKET_IAM_MEMBER: Final = "gcp:storage/bucketIAMMember:BucketIAMMember"
BUCKET_IAM_BINDING: Final = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
BUCKET_IAM_POLICY: Final = "gcp:storage/bucketIAMPolicy:BucketIAMPolicy"
BUCKET_ACCESS_CONTROL: Final = "gcp:storage/bucketAccessControl:BucketAccessControl"
DEFAULT_OBJECT_ACCESS_CONTROL: Final = "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl"
BUCKET_ACL: Final = "gcp:storage/bucketACL:BucketACL"
DEFAULT_OBJECT_ACL: Final = "gcp:storage/defaultObjectACL:DefaultObjectACL"
# The lowercase `iAM` is how pulumi-gcp spells the project IAM modules.
PROJECT_IAM_MEMBER: Final = "gcp:projects/iAMMember:IAMMember"
PROJECT_IAM_BINDING: Final = "gcp:projects/iAMBinding:IAMBinding"
PROJECT_IAM_POLICY: Final = "gcp:projects/iAMPolicy:IAMPolicy"
FOLDER_IAM_MEMBER: Final = "gcp:folder/iAMMember:IAMMember"
FOLDER_IAM_BINDING: Final = "gcp:folder/iAMBinding:IAMBinding"
FOLDER_IAM_POLICY: Final = "gcp:folder/iAMPolicy:IAMPolicy"
ORGANIZATION_IAM_MEMBER: Final = "gcp:organizations/iAMMember:IAMMember"
ORGANIZATION_IAM_BINDING: Final = "gcp:organizations/iAMBinding:IAMBinding"
ORGANIZATION_IAM_POLICY: Final = "gcp:organizations/iAMPolicy:IAMPolicy"
SERVICE_ACCOUNT_IAM_MEMBER: Final = "gcp:serviceaccount/iAMMember:IAMMember"
SERVICE_ACCOUNT_IAM_BINDING: Final = "gcp:serviceaccount/iAMBinding:IAMBinding"
SERVICE_ACCOUNT_IAM_POLICY: Final = "gcp:serviceaccount/iAMPolicy:IAMPolicy"
OBJECT_ACCESS_CONTROL: Final = "gcp:storage/objectAccessControl:ObjectAccessControl"
OBJECT_ACL: Final = "gcp:storage/objectACL:ObjectACL"
CONTAINER_REGISTRY: Final = "gcp:container/registry:Registry"
DOCKER_IMAGE: Final = "docker:index/image:Image"
DOCKER_BUILD_IMAGE: Final = "docker-build:index:Image"

# type token -> (target kind, the property naming the target, grant shape)
IAM_TYPES: Final[dict[str, tuple[TargetKind, str, GrantShape]]] = {
    AR_IAM_MEMBER: ("repository", "repository", "iam-member"),
    AR_IAM_BINDING: ("repository", "repository", "iam-binding"),
    AR_IAM_POLICY: ("repository", "repository", "iam-policy"),
    BUCKET_IAM_MEMBER: ("bucket", "bucket", "iam-member"),
    BUCKET_IAM_BINDING: ("bucket", "bucket", "iam-binding"),
    BUCKET_IAM_POLICY: ("bucket", "bucket", "iam-policy"),
    PROJECT_IAM_MEMBER: ("project", "project", "iam-member"),
    PROJECT_IAM_BINDING: ("project", "project", "iam-binding"),
    PROJECT_IAM_POLICY: ("project", "project", "iam-policy"),
    FOLDER_IAM_MEMBER: ("folder", "folder", "iam-member"),
    FOLDER_IAM_BINDING: ("folder", "folder", "iam-binding"),
    FOLDER_IAM_POLICY: ("folder", "folder", "iam-policy"),
    ORGANIZATION_IAM_MEMBER: ("organization", "orgId", "iam-member"),
    ORGANIZATION_IAM_BINDING: ("organization", "orgId", "iam-binding"),
    ORGANIZATION_IAM_POLICY: ("organization", "orgId", "iam-policy"),
    SERVICE_ACCOUNT_IAM_MEMBER: ("service-account", "serviceAccountId", "iam-member"),
    SERVICE_ACCOUNT_IAM_BINDING: ("service-account", "serviceAccountId", "iam-binding"),
    SERVICE_ACCOUNT_IAM_POLICY: ("service-account", "serviceAccountId", "iam-policy"),
}
ACL_TYPES: Final = (BUCKET_ACCESS_CONTROL, DEFAULT_OBJECT_ACCESS_CONTROL, BUCKET_ACL, DEFAULT_OBJECT_ACL,
                    OBJECT_ACCESS_CONTROL, OBJECT_ACL)
IMAGE_TYPES: Final = (DOCKER_IMAGE, DOCKER_BUILD_IMAGE)

# What adapting one resource of each type can yield. A type missing here yields nothing: the catalogue has
# no opinion on it. (IAM resources are declarations too, but only across the whole stack.)
SUBJECTS_OF_TYPE: Final[dict[str, frozenset[Subject]]] = {
    **dict.fromkeys(IAM_TYPES, frozenset({Subject.GRANT})),
    **dict.fromkeys(ACL_TYPES, frozenset({Subject.GRANT})),
    AR_REPOSITORY: frozenset({Subject.REPOSITORY}),
    BUCKET: frozenset({Subject.BUCKET}),
    CONTAINER_REGISTRY: frozenset({Subject.CONTAINER_REGISTRY}),
    **dict.fromkeys(IMAGE_TYPES, frozenset({Subject.IMAGE})),
}


def types_yielding(subjects: Iterable[Subject]) -> frozenset[str]:
    """The resource types whose adaptation can yield any of `subjects`."""
    wanted = frozenset(subjects)
    return frozenset(t for t, yielded in SUBJECTS_OF_TYPE.items() if yielded & wanted)
