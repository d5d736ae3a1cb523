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
F_MEMBER = "gcp:folder/iAMMember:IAMMember"
F_BINDING = "gcp:folder/iAMBinding:IAMBinding"
F_POLICY = "gcp:folder/iAMPolicy:IAMPolicy"
O_MEMBER = "gcp:organizations/iAMMember:IAMMember"
O_BINDING = "gcp:organizations/iAMBinding:IAMBinding"
O_POLICY = "gcp:organizations/iAMPolicy:IAMPolicy"
SA_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
SA_BINDING = "gcp:serviceaccount/iAMBinding:IAMBinding"
SA_POLICY = "gcp:serviceaccount/iAMPolicy:IAMPolicy"
OBJ_AC = "gcp:storage/objectAccessControl:ObjectAccessControl"
OBJ_ACL = "gcp:storage/objectACL:ObjectACL"
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


FOLDER = {"folder": "folders/301234567890"}
ORG = {"orgId": "123456789012"}
CI_SA = "ci@ml-prod.iam.gserviceaccount.com"
CI_SA_ID = {"serviceAccountId": f"projects/ml-prod/serviceAccounts/{CI_SA}"}
LAYER = "containers/images/sha256:2f2f1b6d1bd4a1d6b6f0b5a4d8f2c9e2a1b3c4d5e6f708192a3b4c5d6e7f8091"
# Workload and workforce identity federation principals (https://cloud.google.com/iam/docs/principal-identifiers).
POOL = "principalSet://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/github/*"
REPO_SET = ("principalSet://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/github/"
            "attribute.repository/acme/models")
POOL_GROUP = ("principalSet://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/github/"
              "group/release-bots")
WORKLOAD = ("principal://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/github/"
            "subject/repo:acme/models:ref:refs/heads/main")
WORKFORCE_PERSON = "principal://iam.googleapis.com/locations/global/workforcePools/staff/subject/ana@acme.example"
