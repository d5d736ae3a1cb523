"""The JSON the Artifact Registry v1 REST API speaks, built the way the real API writes it.

proto3 JSON: camelCase fields, Duration as ``"86400s"``, int64 as strings, empty repeated fields
and default settings omitted, enums by name (or by number when the client asks for
``$alt=json;enum-encoding=int``), and errors in Google's ``{"error": {...}}`` envelope, which
google.api_core turns into the exception that matches the HTTP status.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, TypedDict
from urllib.parse import quote

from .images import FakeDockerImage

JSON = dict[str, Any]

# A Repository's resource name; a repository id has no "/" or ":" (":" starts a custom method).
REPOSITORY_NAME = r"projects/[^/:]+/locations/[^/:]+/repositories/[^/:]+"

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# Enum fields of Repository and the ints the client asks for with `$alt=json;enum-encoding=int`
# (values from google/cloud/artifactregistry_v1/types/repository.py).
_FORMAT = {
    "FORMAT_UNSPECIFIED": 0,
    "DOCKER": 1,
    "MAVEN": 2,
    "NPM": 3,
    "APT": 5,
    "YUM": 6,
    "PYTHON": 8,
    "KFP": 9,
    "GO": 10,
    "GENERIC": 11,
    "RUBY": 12,
}
_MODE = {"MODE_UNSPECIFIED": 0, "STANDARD_REPOSITORY": 1, "VIRTUAL_REPOSITORY": 2, "REMOTE_REPOSITORY": 3}
_ACTION = {"ACTION_UNSPECIFIED": 0, "DELETE": 1, "KEEP": 2}
_TAG_STATE = {"TAG_STATE_UNSPECIFIED": 0, "TAGGED": 1, "UNTAGGED": 2, "ANY": 3}
_ENABLEMENT_CONFIG = {"ENABLEMENT_CONFIG_UNSPECIFIED": 0, "INHERITED": 1, "DISABLED": 2}
_ENABLEMENT_STATE = {
    "ENABLEMENT_STATE_UNSPECIFIED": 0,
    "SCANNING_UNSUPPORTED": 1,
    "SCANNING_DISABLED": 2,
    "SCANNING_ACTIVE": 3,
}


# --------------------------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------------------------


def duration(seconds: float | str) -> str:
    """A google.protobuf.Duration in its JSON spelling ("86400s")."""
    if isinstance(seconds, str):
        return seconds
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{seconds:.9f}".rstrip("0") + "s"


def cleanup_policy(
    policy_id: str,
    action: str,
    *,
    tag_state: str | None = None,
    tag_prefixes: Sequence[str] = (),
    version_name_prefixes: Sequence[str] = (),
    package_name_prefixes: Sequence[str] = (),
    older_than: float | str | None = None,
    newer_than: float | str | None = None,
    keep_count: int | None = None,
    most_recent_package_prefixes: Sequence[str] = (),
) -> JSON:
    """A CleanupPolicy as the API returns it. `keep_count` makes it a mostRecentVersions policy."""
    policy: JSON = {"id": policy_id, "action": action}
    if keep_count is not None or most_recent_package_prefixes:
        recent: JSON = {}
        if most_recent_package_prefixes:
            recent["packageNamePrefixes"] = list(most_recent_package_prefixes)
        if keep_count is not None:
            recent["keepCount"] = keep_count
        policy["mostRecentVersions"] = recent
        return policy
    condition: JSON = {}
    if tag_state is not None:
        condition["tagState"] = tag_state
    if tag_prefixes:
        condition["tagPrefixes"] = list(tag_prefixes)
    if version_name_prefixes:
        condition["versionNamePrefixes"] = list(version_name_prefixes)
    if package_name_prefixes:
        condition["packageNamePrefixes"] = list(package_name_prefixes)
    if older_than is not None:
        condition["olderThan"] = duration(older_than)
    if newer_than is not None:
        condition["newerThan"] = duration(newer_than)
    policy["condition"] = condition
    return policy


class RepositorySettings(TypedDict, total=False):
    """The settings `repository_json` takes (and `FakeEstate.add_repository` passes on)."""

    format: str
    mode: str
    description: str
    labels: Mapping[str, str] | None
    immutable_tags: bool | None
    cleanup_policies: Iterable[JSON]
    cleanup_policy_dry_run: bool
    scanning: str | None
    scanning_state: str | None
    scanning_state_reason: str
    kms_key_name: str
    size_bytes: int
    create_time: str
    update_time: str
    extra: Mapping[str, Any] | None


def repository_json(
    project: str,
    location: str,
    repository_id: str,
    *,
    format: str = "DOCKER",
    mode: str = "STANDARD_REPOSITORY",
    description: str = "",
    labels: Mapping[str, str] | None = None,
    immutable_tags: bool | None = None,
    cleanup_policies: Iterable[JSON] = (),
    cleanup_policy_dry_run: bool = False,
    scanning: str | None = None,
    scanning_state: str | None = None,
    scanning_state_reason: str = "",
    kms_key_name: str = "",
    size_bytes: int = 0,
    create_time: str = "2024-01-01T00:00:00.000000Z",
    update_time: str = "2024-06-01T00:00:00.000000Z",
    extra: Mapping[str, Any] | None = None,
) -> JSON:
    """A Repository as the API returns it. Omitted settings are omitted from the JSON, as the real
    API does for defaults (e.g. no `dockerConfig` when tags are mutable); `extra` is merged last."""
    body: JSON = {
        "name": f"projects/{project}/locations/{location}/repositories/{repository_id}",
        "format": format,
        "mode": mode,
        "createTime": create_time,
        "updateTime": update_time,
    }
    if description:
        body["description"] = description
    if labels:
        body["labels"] = dict(labels)
    if immutable_tags is not None:
        body["dockerConfig"] = {"immutableTags": True} if immutable_tags else {}
    policies = {p["id"]: p for p in cleanup_policies}
    if policies:
        body["cleanupPolicies"] = policies  # a map keyed by policy id, not a list
    if cleanup_policy_dry_run:
        body["cleanupPolicyDryRun"] = True
    if scanning is not None or scanning_state is not None:
        state = scanning_state or ("SCANNING_DISABLED" if scanning == "DISABLED" else "SCANNING_ACTIVE")
        scan: JSON = {"enablementState": state}
        if scanning is not None:
            scan["enablementConfig"] = scanning
        if scanning_state_reason:
            scan["enablementStateReason"] = scanning_state_reason
        body["vulnerabilityScanningConfig"] = scan
    if kms_key_name:
        body["kmsKeyName"] = kms_key_name
    if size_bytes:
        body["sizeBytes"] = str(size_bytes)
    body["registryUri"] = f"{location}-docker.pkg.dev/{project}/{repository_id}"
    if extra:
        body.update(extra)
    return body


def docker_image_json(image: FakeDockerImage, repository: str) -> JSON:
    """A DockerImage of `repository` (its full name) as ListDockerImages returns it."""
    _, project, _, location, _, repo_id = repository.split("/")
    body: JSON = {
        "name": f"{repository}/dockerImages/{quote(image.package, safe='')}@{image.digest}",
        "uri": f"{location}-docker.pkg.dev/{project}/{repo_id}/{image.package}@{image.digest}",
        "tags": list(image.tags),
        "imageSizeBytes": str(image.image_size_bytes),  # int64 travels as a string in JSON
        "uploadTime": image.upload_time,
        "mediaType": image.media_type,
        "updateTime": image.update_time or image.upload_time,
    }
    if image.build_time is not None:
        body["buildTime"] = image.build_time
    if image.artifact_type is not None:
        body["artifactType"] = image.artifact_type
    if not image.tags:
        del body["tags"]  # proto3 JSON omits empty repeated fields
    return body


def with_int_enums(body: JSON) -> JSON:
    """A copy of a Repository with its enums as numbers, as `enum-encoding=int` asks."""
    out: JSON = json.loads(json.dumps(body))
    for key, table in (("format", _FORMAT), ("mode", _MODE)):
        if isinstance(out.get(key), str):
            out[key] = table.get(out[key], 0)
    for policy in out.get("cleanupPolicies", {}).values():
        if isinstance(policy.get("action"), str):
            policy["action"] = _ACTION.get(policy["action"], 0)
        cond = policy.get("condition")
        if cond and isinstance(cond.get("tagState"), str):
            cond["tagState"] = _TAG_STATE.get(cond["tagState"], 0)
    scan = out.get("vulnerabilityScanningConfig")
    if scan:
        if isinstance(scan.get("enablementConfig"), str):
            scan["enablementConfig"] = _ENABLEMENT_CONFIG.get(scan["enablementConfig"], 0)
        if isinstance(scan.get("enablementState"), str):
            scan["enablementState"] = _ENABLEMENT_STATE.get(scan["enablementState"], 0)
    return out


# --------------------------------------------------------------------------------------------
# IAM
# --------------------------------------------------------------------------------------------


def binding(
    role: str,
    members: Sequence[str],
    *,
    condition_expression: str | None = None,
    condition_title: str = "",
    condition_description: str = "",
) -> JSON:
    """An IAM Binding as the API returns it."""
    result: JSON = {"role": role, "members": list(members)}
    if condition_expression is not None:
        expr: JSON = {"expression": condition_expression}
        if condition_title:
            expr["title"] = condition_title
        if condition_description:
            expr["description"] = condition_description
        result["condition"] = expr
    return result


def iam_policy_json(bindings: Iterable[JSON], *, version: int | None = None, etag: bytes | None = None) -> JSON:
    """A Policy as IAM stores it: version 3 when a binding has a condition (IAM requires it), and an
    etag derived from the bindings unless one is given (bytes, base64 in JSON)."""
    copied = [json.loads(json.dumps(b)) for b in bindings]
    conditional = any("condition" in b for b in copied)
    tag = (
        etag
        if etag is not None
        else b"\x00" + hashlib.sha256(json.dumps(copied, sort_keys=True).encode()).digest()[:7]
    )
    return {
        "version": version if version is not None else (3 if conditional else 1),
        "etag": base64.b64encode(tag).decode(),
        "bindings": copied,
    }


def policy_for_version(policy: JSON, requested: int) -> JSON:
    """What GetIamPolicy answers for `requested` (0, 1 or 3); may modify `policy`, pass a copy.

    IAM's versioning: conditional bindings need version 3; older callers get the role suffixed
    with `_withcond_<hash>` and no condition, so they cannot mistake it for unconditional."""
    bindings = policy.get("bindings", [])
    if requested >= 3 or not any("condition" in b for b in bindings):
        if requested < 3:
            policy["version"] = 1
        if not bindings:
            policy.pop("bindings", None)
        return policy
    downgraded = []
    for b in bindings:
        if "condition" in b:
            digest = hashlib.sha256(json.dumps(b["condition"], sort_keys=True).encode()).hexdigest()[:20]
            b = {"role": f"{b['role']}_withcond_{digest}", "members": b["members"]}
        downgraded.append(b)
    return {"version": 1, "etag": policy["etag"], "bindings": downgraded}


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error the API answers with: an HTTP status and the message for Google's error envelope."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def error_body(code: int, message: str) -> bytes:
    """Google's JSON error envelope, which google.api_core turns into the right exception."""
    status = _STATUS_NAMES.get(code, HTTPStatus(code).phrase.upper().replace(" ", "_"))
    return json.dumps({"error": {"code": code, "message": message, "status": status}}).encode()
