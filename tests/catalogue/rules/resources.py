"""Resource properties as the engine sends them to the pack (wire names), shared by the rules' test cases.

Type tokens are written out, not imported from the code under test: a typo there must fail a test.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

Props = dict[str, Any]

U = UNKNOWN_STRING_VALUE
AR_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
AR_BINDING = "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding"
AR_POLICY = "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy"
REPO = "gcp:artifactregistry/repository:Repository"
BUCKET = "gcp:storage/bucket:Bucket"
B_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
B_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
B_POLICY = "gcp:storage/bucketIAMPolicy:BucketIAMPolicy"
B_AC = "gcp:storage/bucketAccessControl:BucketAccessControl"
DO_AC = "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl"
B_ACL = "gcp:storage/bucketACL:BucketACL"
DO_ACL = "gcp:storage/defaultObjectACL:DefaultObjectACL"
P_MEMBER = "gcp:projects/iAMMember:IAMMember"
P_BINDING = "gcp:projects/iAMBinding:IAMBinding"
P_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
GCR = "gcp:container/registry:Registry"
IMAGE = "docker:index/image:Image"
BUILD_IMAGE = "docker-build:index:Image"

AR_TARGET = {"project": "ml-prod", "location": "europe-west4", "repository": "models"}
CR_BUCKET = "artifacts.ml-prod.appspot.com"
AR_HOST = "europe-west4-docker.pkg.dev/ml-prod/models"
COND = {"title": "office hours", "expression": "request.time.getHours('UTC') < 18"}


def policy_data(*bindings: tuple[str, list[str]]) -> str:
    return json.dumps({"bindings": [{"role": role, "members": members} for role, members in bindings]})


def repo(**extra: Any) -> Props:
    return {
        "repositoryId": "models",
        "location": "europe-west4",
        "project": "ml-prod",
        "format": "DOCKER",
        "dockerConfig": {"immutableTags": True},
        "kmsKeyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k",
        "labels": {"owner": "ml-platform", "model": "llm"},
        **extra,
    }


def keep_delete(*policies: Props) -> Props:
    return repo(cleanupPolicies=list(policies))


DELETE_UNTAGGED = {
    "id": "drop-untagged",
    "action": "DELETE",
    "condition": {"tagState": "UNTAGGED", "olderThan": "1209600s"},
}
DELETE_TAGGED = {
    "id": "drop-old",
    "action": "DELETE",
    "condition": {"tagState": "TAGGED", "olderThan": "2592000s"},
}
KEEP_TAGGED = {"id": "keep-tagged", "action": "KEEP", "condition": {"tagState": "TAGGED"}}
KEEP_V = {"id": "keep-v", "action": "KEEP", "condition": {"tagState": "TAGGED", "tagPrefixes": ["v"]}}

