"""Numbered pass/fail fixtures per policy, in the style of Pulumi's compliance-policies.

Each row: (number, description, type token, props (wire names), config for that policy, expected) where
expected is None (compliant: the policy reports nothing) or (enforcement level, message substring).
Numbers are stable ids: add new rows at the end of a policy's list, never renumber.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE

from .harness import StackItem

Props = dict[str, Any]
Expected = tuple[str, str] | None
Fixture = tuple[int, str, str, Props, dict[str, Any], Expected]

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

FIXTURES: dict[str, list[Fixture]] = {
    "no-public-access": [
        (
            1,
            "repository reader granted to a group",
            AR_MEMBER,
            {**AR_TARGET, "role": "roles/artifactregistry.reader", "member": "group:ml@example.com"},
            {},
            None,
        ),
        (
            2,
            "repository IAM member allUsers",
            AR_MEMBER,
            {**AR_TARGET, "role": "roles/artifactregistry.reader", "member": "allUsers"},
            {},
            ("mandatory", "allUsers holds roles/artifactregistry.reader"),
        ),
        (
            3,
            "repository IAM binding hides allAuthenticatedUsers among groups",
            AR_BINDING,
            {
                **AR_TARGET,
                "role": "roles/artifactregistry.reader",
                "members": ["group:a@example.com", "allAuthenticatedUsers"],
            },
            {},
            ("mandatory", "allAuthenticatedUsers holds roles/artifactregistry.reader"),
        ),
        (
            4,
            "repository IAM policy JSON with allUsers",
            AR_POLICY,
            {**AR_TARGET, "policyData": policy_data(("roles/artifactregistry.reader", ["allUsers"]))},
            {},
            ("mandatory", "through the IAM policy"),
        ),
        (
            5,
            "repository IAM policy that is not JSON",
            AR_POLICY,
            {**AR_TARGET, "policyData": "{bindings: ["},
            {},
            ("mandatory", "not a valid IAM policy JSON document"),
        ),
        (
            6,
            "bucket IAM member ALLUSERS in upper case",
            B_MEMBER,
            {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "member": "ALLUSERS"},
            {},
            ("mandatory", "allUsers holds roles/storage.objectViewer"),
        ),
        (
            7,
            "bucket IAM binding with a condition is still public",
            B_BINDING,
            {
                "bucket": CR_BUCKET,
                "role": "roles/storage.objectViewer",
                "members": ["allUsers"],
                "condition": COND,
            },
            {},
            ("mandatory", "its IAM condition does not make it safe"),
        ),
        (
            8,
            "bucket IAM policy JSON with allAuthenticatedUsers",
            B_POLICY,
            {
                "bucket": CR_BUCKET,
                "policyData": policy_data(("roles/storage.objectViewer", ["allAuthenticatedUsers"])),
            },
            {},
            ("mandatory", "allAuthenticatedUsers holds roles/storage.objectViewer"),
        ),
        (
            9,
            "bucket access control entity allUsers",
            B_AC,
            {"bucket": CR_BUCKET, "entity": "allUsers", "role": "READER"},
            {},
            (
                "mandatory",
                "allUsers holds acl:READER on artifacts.ml-prod.appspot.com through the bucket ACL",
            ),
        ),
        (
            10,
            "default object access control allAuthenticatedUsers",
            DO_AC,
            {"bucket": CR_BUCKET, "entity": "allAuthenticatedUsers", "role": "READER"},
            {},
            ("mandatory", "through the default object ACL"),
        ),
        (
            11,
            "bucket ACL roleEntities READER:allUsers",
            B_ACL,
            {"bucket": CR_BUCKET, "roleEntities": ["OWNER:project-owners-123", "READER:allUsers"]},
            {},
            ("mandatory", "allUsers holds acl:READER"),
        ),
        (
            12,
            "bucket ACL predefinedAcl publicRead",
            B_ACL,
            {"bucket": CR_BUCKET, "predefinedAcl": "publicRead"},
            {},
            ("mandatory", "allUsers holds acl:READER"),
        ),
        (
            13,
            "default object ACL roleEntities READER:allUsers",
            DO_ACL,
            {"bucket": CR_BUCKET, "roleEntities": ["READER:allUsers"]},
            {},
            ("mandatory", "default object ACL"),
        ),
        (
            14,
            "project IAM member allUsers with a storage role",
            P_MEMBER,
            {"project": "ml-prod", "role": "roles/storage.objectViewer", "member": "allUsers"},
            {},
            ("mandatory", "allUsers holds roles/storage.objectViewer on ml-prod"),
        ),
        (
            15,
            "project IAM member allUsers with a non-registry role",
            P_MEMBER,
            {"project": "ml-prod", "role": "roles/logging.viewer", "member": "allUsers"},
            {},
            None,
        ),
        (
            16,
            "project IAM binding allAuthenticatedUsers artifactregistry.reader",
            P_BINDING,
            {
                "project": "ml-prod",
                "role": "roles/artifactregistry.reader",
                "members": ["allAuthenticatedUsers"],
            },
            {},
            ("mandatory", "allAuthenticatedUsers holds roles/artifactregistry.reader"),
        ),
        (
            17,
            "project IAM policy with allUsers as viewer (basic role)",
            P_POLICY,
            {"project": "ml-prod", "policyData": policy_data(("roles/viewer", ["allUsers"]))},
            {},
            ("mandatory", "allUsers holds roles/viewer"),
        ),
        (
            18,
            "member unknown at preview",
            AR_MEMBER,
            {**AR_TARGET, "role": "roles/artifactregistry.reader", "member": U},
            {},
            ("advisory", "could not judge no-public-access"),
        ),
        (
            19,
            "policyData unknown at preview",
            B_POLICY,
            {"bucket": CR_BUCKET, "policyData": U},
            {},
            ("advisory", "unknown at preview: .policyData"),
        ),
        (20, "bucket ACL private", B_ACL, {"bucket": CR_BUCKET, "predefinedAcl": "private"}, {}, None),
        (
            21,
            "bucket ACL default object ACL publicRead",
            B_ACL,
            {"bucket": CR_BUCKET, "roleEntities": ["OWNER:project-owners-1"], "defaultAcl": "publicRead"},
            {},
            ("mandatory", "through the default object ACL"),
        ),
        (
            22,
            "members list unknown at preview",
            B_BINDING,
            {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "members": UNKNOWN_ARRAY_VALUE},
            {},
            ("advisory", ".members"),
        ),
    ],
    "no-broad-admin": [
        (
            1,
            "admin group on allowedAdmins",
            AR_MEMBER,
            {**AR_TARGET, "role": "roles/artifactregistry.repoAdmin", "member": "group:Admins@example.com"},
            {"allowedAdmins": ["group:admins@example.com"]},
            None,
        ),
        (
            2,
            "the original example: storage.admin to a user on the registry bucket",
            B_BINDING,
            {"bucket": CR_BUCKET, "role": "roles/storage.admin", "members": ["user:member-id@example.com"]},
            {},
            ("mandatory", "admin-class roles never go to a person"),
        ),
        (
            3,
            "repoAdmin to a whole domain",
            AR_BINDING,
            {**AR_TARGET, "role": "roles/artifactregistry.repoAdmin", "members": ["domain:example.com"]},
            {"allowedAdmins": ["group:admins@example.com"]},
            ("mandatory", "never go to a whole domain"),
        ),
        (
            4,
            "admin group not on allowedAdmins",
            AR_MEMBER,
            {**AR_TARGET, "role": "roles/artifactregistry.admin", "member": "group:ops@example.com"},
            {},
            ("mandatory", "the principal is not on allowedAdmins"),
        ),
        (
            5,
            "custom role configured as admin",
            AR_MEMBER,
            {
                **AR_TARGET,
                "role": "projects/ml-prod/roles/registryBoss",
                "member": "serviceAccount:ci@p.iam.gserviceaccount.com",
            },
            {"adminRoles": ["projects/ml-prod/roles/registryBoss"]},
            ("mandatory", "projects/ml-prod/roles/registryBoss"),
        ),
        (
            6,
            "project owner to an unlisted service account",
            P_MEMBER,
            {
                "project": "ml-prod",
                "role": "roles/owner",
                "member": "serviceAccount:ci@p.iam.gserviceaccount.com",
            },
            {},
            ("mandatory", "holds admin-class role roles/owner"),
        ),
        (
            7,
            "bucket ACL OWNER to a person",
            B_AC,
            {"bucket": CR_BUCKET, "entity": "user-ann@example.com", "role": "OWNER"},
            {},
            ("mandatory", "acl:OWNER"),
        ),
        (
            8,
            "reader role to a user is not admin",
            AR_MEMBER,
            {**AR_TARGET, "role": "roles/artifactregistry.reader", "member": "user:ann@example.com"},
            {},
            None,
        ),
        (
            9,
            "IAM policy JSON with editor to an unlisted group",
            AR_POLICY,
            {**AR_TARGET, "policyData": policy_data(("roles/editor", ["group:devs@example.com"]))},
            {},
            ("mandatory", "roles/editor"),
        ),
        (
            10,
            "public admin",
            B_MEMBER,
            {"bucket": CR_BUCKET, "role": "roles/storage.admin", "member": "allUsers"},
            {},
            ("mandatory", "never go to a public principal"),
        ),
        (
            11,
            "role unknown at preview",
            B_MEMBER,
            {"bucket": CR_BUCKET, "role": U, "member": "user:a@example.com"},
            {},
            ("advisory", "could not judge no-broad-admin"),
        ),
        (
            12,
            "bad policyData JSON fails closed",
            B_POLICY,
            {"bucket": CR_BUCKET, "policyData": "not json"},
            {},
            ("mandatory", "not a valid IAM policy JSON document"),
        ),
    ],
    "no-personal-writers": [
        (
            1,
            "writer is a service account",
            AR_MEMBER,
            {
                **AR_TARGET,
                "role": "roles/artifactregistry.writer",
                "member": "serviceAccount:ci@p.iam.gserviceaccount.com",
            },
            {},
            None,
        ),
        (
            2,
            "writer is a person",
            AR_MEMBER,
            {**AR_TARGET, "role": "roles/artifactregistry.writer", "member": "user:ann@example.com"},
            {},
            ("advisory", "user:ann@example.com can write to"),
        ),
        (
            3,
            "consumer account as reader",
            AR_BINDING,
            {**AR_TARGET, "role": "roles/artifactregistry.reader", "members": ["user:someone@gmail.com"]},
            {},
            ("advisory", "consumer account user:someone@gmail.com"),
        ),
        (
            4,
            "reader is a person (allowed)",
            B_MEMBER,
            {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "member": "user:ann@example.com"},
            {},
            None,
        ),
        (
            5,
            "bucket ACL WRITER to a person",
            B_AC,
            {"bucket": CR_BUCKET, "entity": "user-ann@example.com", "role": "WRITER"},
            {},
            ("advisory", "can write to"),
        ),
        (
            6,
            "project role outside the registry to a person",
            P_MEMBER,
            {"project": "ml-prod", "role": "roles/logging.viewer", "member": "user:ann@example.com"},
            {},
            None,
        ),
        (
            7,
            "custom admin role to a person counts as writing",
            P_BINDING,
            {
                "project": "ml-prod",
                "role": "projects/ml-prod/roles/pusher",
                "members": ["user:ann@example.com"],
            },
            {"adminRoles": ["projects/ml-prod/roles/pusher"]},
            ("advisory", "projects/ml-prod/roles/pusher"),
        ),
    ],
    "immutable-tags": [
        (1, "docker repository with immutable tags", REPO, repo(), {}, None),
        (
            2,
            "docker repository without dockerConfig",
            REPO,
            {**repo(), "dockerConfig": None},
            {},
            ("mandatory", "immutable tags are off"),
        ),
        (
            3,
            "docker repository with immutableTags false",
            REPO,
            repo(dockerConfig={"immutableTags": False}),
            {},
            ("mandatory", "immutable tags are off"),
        ),
        (4, "maven repository is out of scope", REPO, repo(format="MAVEN", dockerConfig=None), {}, None),
        (
            5,
            "immutableTags unknown at preview",
            REPO,
            repo(dockerConfig={"immutableTags": UNKNOWN_BOOLEAN_VALUE}),
            {},
            ("advisory", "dockerConfig.immutableTags is not known yet"),
        ),
        (
            6,
            "format unknown at preview",
            REPO,
            repo(format=U),
            {},
            ("advisory", "the repository format is not known yet"),
        ),
    ],
    "version-tag-required": [
        (
            1,
            "pulumi-docker image with a version tag",
            IMAGE,
            {"imageName": f"{AR_HOST}/llm:v1.2.0"},
            {},
            None,
        ),
        (
            2,
            "pulumi-docker image tagged latest",
            IMAGE,
            {"imageName": f"{AR_HOST}/llm:latest"},
            {},
            ("mandatory", "is tagged only latest"),
        ),
        (
            3,
            "pulumi-docker image with no tag pushes latest",
            IMAGE,
            {"imageName": f"{AR_HOST}/llm"},
            {},
            ("mandatory", "is tagged only latest"),
        ),
        (
            4,
            "docker-build image with latest and a version",
            BUILD_IMAGE,
            {"push": True, "tags": [f"{AR_HOST}/llm:latest", f"{AR_HOST}/llm:1.0.0-rc.1"]},
            {},
            None,
        ),
        (
            5,
            "docker-build image with dev and latest only",
            BUILD_IMAGE,
            {"push": True, "tags": [f"{AR_HOST}/llm:dev", f"{AR_HOST}/llm:latest"]},
            {},
            ("mandatory", "dev, latest"),
        ),
        (
            6,
            "docker-build image that is not pushed",
            BUILD_IMAGE,
            {"push": False, "tags": [f"{AR_HOST}/llm:latest"]},
            {},
            None,
        ),
        (
            7,
            "image pushed to Docker Hub is not the registry",
            IMAGE,
            {"imageName": "docker.io/library/llm:latest"},
            {},
            None,
        ),
        (
            8,
            "Container Registry image tagged latest",
            IMAGE,
            {"imageName": "eu.gcr.io/ml-prod/llm:latest"},
            {},
            ("mandatory", "no tag matches the version pattern"),
        ),
        (
            9,
            "custom versionTagPattern",
            IMAGE,
            {"imageName": f"{AR_HOST}/llm:model-7"},
            {"versionTagPattern": r"^model-\d+$"},
            None,
        ),
        (
            10,
            "custom versionTagPattern rejects semver",
            IMAGE,
            {"imageName": f"{AR_HOST}/llm:v1.0.0"},
            {"versionTagPattern": r"^model-\d+$"},
            ("mandatory", "is tagged only v1.0.0"),
        ),
        (
            11,
            "imageName unknown at preview",
            IMAGE,
            {"imageName": U},
            {},
            ("advisory", "imageName is not known yet"),
        ),
        (
            12,
            "pulumi-docker skipPush",
            IMAGE,
            {"imageName": f"{AR_HOST}/llm:latest", "skipPush": True},
            {},
            None,
        ),
        (
            13,
            "docker-build tag unknown at preview may be the version",
            BUILD_IMAGE,
            {"push": True, "tags": [f"{AR_HOST}/llm:latest", U]},
            {},
            ("advisory", "tags[1] is not known yet"),
        ),
        (
            14,
            "docker-build tag unknown at preview is reported",
            BUILD_IMAGE,
            {"push": True, "tags": [U]},
            {},
            ("advisory", "tags[0] is not known yet"),
        ),
    ],
    "cleanup-keeps-versions": [
        (1, "no cleanup policies", REPO, repo(), {}, None),
        (2, "delete untagged after 14 days", REPO, keep_delete(DELETE_UNTAGGED), {}, None),
        (
            3,
            "delete tagged images after 30 days",
            REPO,
            keep_delete(DELETE_TAGGED),
            {},
            ("mandatory", "cleanup policy 'drop-old'"),
        ),
        (
            4,
            "delete tagged, keep every tagged image",
            REPO,
            keep_delete(DELETE_TAGGED, KEEP_TAGGED),
            {},
            None,
        ),
        (
            5,
            "keep only v-prefixed tags: 1.0.0 is a version too",
            REPO,
            keep_delete(DELETE_TAGGED, KEEP_V),
            {},
            ("mandatory", "no KEEP policy protects every version tag"),
        ),
        (
            6,
            "keep v-prefixed tags with a v-only pattern",
            REPO,
            keep_delete(DELETE_TAGGED, KEEP_V),
            {"versionTagPattern": r"^v\d+\.\d+\.\d+$"},
            None,
        ),
        (
            7,
            "delete with no condition",
            REPO,
            keep_delete({"id": "all", "action": "DELETE"}),
            {},
            ("mandatory", "cleanup policy 'all'"),
        ),
        (
            8,
            "keep most recent versions does not protect older versions",
            REPO,
            keep_delete(
                DELETE_TAGGED, {"id": "recent", "action": "KEEP", "mostRecentVersions": {"keepCount": 5}}
            ),
            {},
            ("mandatory", "cleanup policy 'drop-old'"),
        ),
        (
            9,
            "dry run is on",
            REPO,
            keep_delete(DELETE_TAGGED) | {"cleanupPolicyDryRun": True},
            {},
            ("mandatory", "dry run is on"),
        ),
        (
            10,
            "cleanup policies unknown at preview",
            REPO,
            repo(cleanupPolicies=UNKNOWN_ARRAY_VALUE),
            {},
            ("advisory", "cleanup policies are not known yet"),
        ),
        (
            11,
            "keep with an age limit does not cover",
            REPO,
            keep_delete(
                DELETE_TAGGED,
                {"id": "k", "action": "KEEP", "condition": {"tagState": "TAGGED", "newerThan": "7d"}},
            ),
            {},
            ("mandatory", "cleanup policy 'drop-old'"),
        ),
    ],
    "vulnerability-scanning": [
        (1, "no scanning config (inherited)", REPO, repo(), {}, None),
        (
            2,
            "scanning inherited",
            REPO,
            repo(vulnerabilityScanningConfig={"enablementConfig": "INHERITED"}),
            {},
            None,
        ),
        (
            3,
            "scanning disabled",
            REPO,
            repo(vulnerabilityScanningConfig={"enablementConfig": "DISABLED"}),
            {},
            ("advisory", "vulnerability scanning is disabled"),
        ),
        (
            4,
            "scanning config unknown",
            REPO,
            repo(vulnerabilityScanningConfig={"enablementConfig": U}),
            {},
            ("advisory", "the scanning config is not known yet"),
        ),
    ],
    "customer-managed-encryption": [
        (1, "repository with a KMS key", REPO, repo(), {}, None),
        (
            2,
            "repository without a KMS key",
            REPO,
            {**repo(), "kmsKeyName": None},
            {},
            ("advisory", "Google-managed key"),
        ),
        (
            3,
            "KMS key unknown at preview",
            REPO,
            repo(kmsKeyName=U),
            {},
            ("advisory", "kmsKeyName is not known yet"),
        ),
    ],
    "legacy-gcr": [
        (1, "Artifact Registry repository", REPO, repo(), {}, None),
        (
            2,
            "gcp.container.Registry",
            GCR,
            {"project": "ml-prod"},
            {},
            ("advisory", "gcr.io/ml-prod is Container Registry"),
        ),
        (
            3,
            "gcp.container.Registry in EU",
            GCR,
            {"project": "ml-prod", "location": "EU"},
            {},
            ("advisory", "eu.gcr.io/ml-prod"),
        ),
        (
            4,
            "a Container Registry bucket declared as a bucket",
            BUCKET,
            {
                "name": "eu.artifacts.ml-prod.appspot.com",
                "uniformBucketLevelAccess": True,
                "publicAccessPrevention": "enforced",
            },
            {},
            ("advisory", "backs a Container Registry"),
        ),
        (5, "an ordinary bucket", BUCKET, {"name": "reports", "uniformBucketLevelAccess": True}, {}, None),
    ],
    "bucket-hardening": [
        (
            1,
            "uniform access and public access prevention",
            BUCKET,
            {"name": "reports", "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced"},
            {},
            None,
        ),
        (
            2,
            "neither setting",
            BUCKET,
            {"name": "reports"},
            {},
            ("mandatory", "uniform bucket-level access is off; public access prevention is inherited"),
        ),
        (
            3,
            "public access prevention inherited",
            BUCKET,
            {"name": "reports", "uniformBucketLevelAccess": True, "publicAccessPrevention": "inherited"},
            {},
            ("mandatory", "public access prevention is inherited, not enforced"),
        ),
        (
            4,
            "public access prevention unknown",
            BUCKET,
            {"name": "reports", "uniformBucketLevelAccess": True, "publicAccessPrevention": U},
            {},
            ("advisory", "publicAccessPrevention not known yet"),
        ),
        (
            5,
            "uniform access unknown",
            BUCKET,
            {
                "name": "reports",
                "uniformBucketLevelAccess": UNKNOWN_BOOLEAN_VALUE,
                "publicAccessPrevention": "enforced",
            },
            {},
            ("advisory", "uniformBucketLevelAccess not known yet"),
        ),
        (
            6,
            "uniform access off",
            BUCKET,
            {"name": "reports", "uniformBucketLevelAccess": False, "publicAccessPrevention": "enforced"},
            {},
            ("mandatory", "uniform bucket-level access is off"),
        ),
    ],
    "required-labels": [
        (1, "owner and model labels", REPO, repo(), {}, None),
        (2, "no labels", REPO, {**repo(), "labels": None}, {}, ("advisory", "lacks label(s) owner, model")),
        (
            3,
            "custom requiredLabels",
            REPO,
            repo(),
            {"requiredLabels": ["team"]},
            ("advisory", "lacks label(s) team"),
        ),
        (
            4,
            "labels from provider defaults (effectiveLabels)",
            REPO,
            {**repo(), "labels": {"model": "llm"}, "effectiveLabels": {"owner": "ml", "model": "llm"}},
            {},
            None,
        ),
        (5, "labels unknown at preview", REPO, repo(labels=U), {}, ("advisory", "labels are not known yet")),
        (
            6,
            "empty owner value",
            REPO,
            repo(labels={"owner": "", "model": "llm"}),
            {},
            ("advisory", "lacks label(s) owner"),
        ),
    ],
}

StackFixture = tuple[int, str, list[StackItem], dict[str, Any], Expected]

_REG = StackItem(GCR, "registry", {"project": "ml-prod"})
STACK_FIXTURES: dict[str, list[StackFixture]] = {
    "iam-authoritative-conflict": [
        (
            1,
            "one authoritative policy alone",
            [StackItem(AR_POLICY, "policy", {**AR_TARGET, "policyData": policy_data()})],
            {},
            None,
        ),
        (
            2,
            "authoritative policy and a member on the same repository",
            [
                StackItem(AR_POLICY, "policy", {**AR_TARGET, "policyData": policy_data()}),
                StackItem(
                    AR_MEMBER,
                    "member",
                    {**AR_TARGET, "role": "roles/artifactregistry.reader", "member": "group:a@example.com"},
                ),
            ],
            {},
            ("mandatory", "1 authoritative IAM policy resource(s) and 1 binding/member resource(s)"),
        ),
        (
            3,
            "two bindings for one role on one bucket",
            [
                StackItem(
                    B_BINDING,
                    "b1",
                    {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "members": []},
                ),
                StackItem(
                    B_BINDING,
                    "b2",
                    {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "members": []},
                ),
            ],
            {},
            ("mandatory", "2 IAM binding(s) and 0 member resource(s) set role roles/storage.objectViewer"),
        ),
        (
            4,
            "binding and member for one role",
            [
                StackItem(
                    B_BINDING,
                    "b1",
                    {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "members": []},
                ),
                StackItem(
                    B_MEMBER,
                    "m1",
                    {
                        "bucket": CR_BUCKET,
                        "role": "roles/storage.objectViewer",
                        "member": "group:a@example.com",
                    },
                ),
            ],
            {},
            ("mandatory", "resources: b1, m1"),
        ),
        (
            5,
            "bindings for different roles",
            [
                StackItem(
                    B_BINDING,
                    "b1",
                    {"bucket": CR_BUCKET, "role": "roles/storage.objectViewer", "members": []},
                ),
                StackItem(
                    B_BINDING, "b2", {"bucket": CR_BUCKET, "role": "roles/storage.admin", "members": []}
                ),
            ],
            {},
            None,
        ),
        (
            6,
            "bucket named through the registry it was computed from",
            [
                _REG,
                StackItem(
                    B_MEMBER,
                    "m1",
                    {"bucket": U, "role": "roles/storage.objectViewer", "member": "group:a@example.com"},
                    {"bucket": ["registry"]},
                ),
                StackItem(B_POLICY, "p1", {"bucket": CR_BUCKET, "policyData": policy_data()}),
            ],
            {},
            ("mandatory", "manage artifacts.ml-prod.appspot.com"),
        ),
        (
            7,
            "target unknown with nothing to name it",
            [
                StackItem(
                    B_MEMBER,
                    "m1",
                    {"bucket": U, "role": "roles/storage.objectViewer", "member": "group:a@example.com"},
                )
            ],
            {},
            ("advisory", "could not judge iam-authoritative-conflict"),
        ),
        (
            8,
            "project IAM policy and a project IAM member",
            [
                StackItem(P_POLICY, "pp", {"project": "ml-prod", "policyData": policy_data()}),
                StackItem(
                    P_MEMBER,
                    "pm",
                    {"project": "ml-prod", "role": "roles/viewer", "member": "group:a@example.com"},
                ),
            ],
            {},
            ("mandatory", "manage ml-prod"),
        ),
        (
            9,
            "same repository spelled as full name and as short id",
            [
                StackItem(
                    AR_BINDING, "b1", {**AR_TARGET, "role": "roles/artifactregistry.reader", "members": []}
                ),
                StackItem(
                    AR_BINDING,
                    "b2",
                    {
                        "repository": "projects/ml-prod/locations/europe-west4/repositories/models",
                        "role": "roles/artifactregistry.reader",
                        "members": [],
                    },
                ),
            ],
            {},
            ("mandatory", "2 IAM binding(s)"),
        ),
        (
            10,
            "same role on two different repositories",
            [
                StackItem(
                    AR_BINDING, "b1", {**AR_TARGET, "role": "roles/artifactregistry.reader", "members": []}
                ),
                StackItem(
                    AR_BINDING,
                    "b2",
                    {
                        **AR_TARGET,
                        "repository": "other",
                        "role": "roles/artifactregistry.reader",
                        "members": [],
                    },
                ),
            ],
            {},
            None,
        ),
    ],
}
