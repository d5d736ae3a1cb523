"""Stack configuration: parsed once, validated at preview, handed to the component as frozen data.

Why a separate module: every mistake a user can make in `Pulumi.<stack>.yaml` should stop
`pulumi preview` with one line that names the key and says what is allowed, before a single
resource is declared. The component then only ever sees values that are already valid.

`parse_config` is a pure function of the raw config namespace (`{"model-registry:key": "value"}`),
so it is tested without Pulumi; `load_config` reads that namespace from the running program.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from registry_guard.catalogue.names import is_label_key, is_repository_id
from registry_guard.catalogue.principals import parse_member, validate_member

Backend = Literal["artifact-registry", "gcr"]
BACKENDS: tuple[Backend, ...] = ("artifact-registry", "gcr")

DEFAULT_LOCATION = "us-central1"
DEFAULT_REPOSITORIES = ("models",)
DEFAULT_UNTAGGED_RETENTION_DAYS = 14
DEFAULT_KEEP_RECENT_VERSIONS = 10
# "v" plus every digit: together they match every tag the policy pack's default versionTagPattern
# (semantic versioning with an optional v) accepts, so cleanup can never delete a released version.
# Over-keeping a non-version tag such as "very-old" is the safe direction.
DEFAULT_VERSION_TAG_PREFIXES = ("v", *(str(d) for d in range(10)))
GCR_LOCATIONS = ("US", "EU", "ASIA")
AR_MULTI_REGIONS = ("us", "europe", "asia")

# Keys every backend accepts, and keys that only mean something for one backend. A key set for
# the other backend is refused rather than silently ignored (e.g. kmsKeyName on gcr).
COMMON_KEYS = ("backend", "readers", "writers", "admins", "audit")
AR_KEYS = (
    "location",
    "repositories",
    "labels",
    "owner",
    "untaggedRetentionDays",
    "keepRecentVersions",
    "versionTagPrefixes",
    "cleanupDryRun",
    "kmsKeyName",
)
GCR_KEYS = ("gcrLocation",)
ALLOWED_KEYS = (*COMMON_KEYS, *AR_KEYS, *GCR_KEYS)

MEMBER_KEYS = ("readers", "writers", "admins")

_REGION_RE = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_ZONE_RE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")
# Project ids: 6-30 chars; legacy domain-scoped ids look like example.com:my-project.
_PROJECT_RE = re.compile(r"^([a-z0-9.-]+\.[a-z]{2,}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_LABEL_VALUE_RE = re.compile(r"^[a-z0-9_-]{0,63}$")
_TAG_PREFIX_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_KMS_RE = re.compile(
    r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+$"
)
MAX_LABELS = 64
MAX_RETENTION_DAYS = 3650

# The nightly audit (`model-registry:audit`, an object). See model_registry/nightly_audit.py.
AUDIT_KEYS = (
    "enabled", "schedule", "timeZone", "region", "image", "taskCount", "retentionDays", "reportBucket",
)
DEFAULT_AUDIT_SCHEDULE = "0 3 * * *"
DEFAULT_AUDIT_TIME_ZONE = "Etc/UTC"
DEFAULT_AUDIT_TASK_COUNT = 1
MAX_AUDIT_TASK_COUNT = 100
DEFAULT_AUDIT_RETENTION_DAYS = 365
# Cloud Run and Cloud Scheduler run in a region; a multi-region registry gets its audit in a region inside it.
MULTI_REGION_AUDIT_REGIONS = {"us": "us-central1", "europe": "europe-west1", "asia": "asia-east1"}
GCR_AUDIT_REGIONS = {None: "us-central1", "US": "us-central1", "EU": "europe-west1", "ASIA": "asia-east1"}
# registry/path[:tag][@sha256:digest]; the registry part needs a dot or a port (a real host).
_IMAGE_RE = re.compile(
    r"^(?P<host>[a-z0-9.-]+\.[a-z0-9.-]+(:[0-9]+)?|[a-z0-9.-]+:[0-9]+)"
    r"(?P<path>(/[a-z0-9]+([._-][a-z0-9]+)*)+)"
    r"(:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$")
_IPV4_RE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$")
# unix-cron as Cloud Scheduler reads it: minute hour day-of-month month day-of-week.
_CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
    ("day of week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)


class ConfigError(ValueError):
    """A stack config value is missing or malformed. The message is one line: key, then what is allowed."""


@dataclass(frozen=True)
class Members:
    """Principals per access level. Each grant is non-authoritative, so grants made elsewhere survive."""

    readers: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepositorySpec:
    """One Artifact Registry Docker repository, e.g. one per model family."""

    name: str
    description: str
    labels: tuple[tuple[str, str], ...]  # final labels (owner, model, user labels), sorted

    @property
    def model(self) -> str:
        """The image name used in the example commands: the `model` label."""
        return dict(self.labels).get("model", self.name)


@dataclass(frozen=True)
class CleanupSpec:
    untagged_retention_days: int = DEFAULT_UNTAGGED_RETENTION_DAYS
    keep_recent_versions: int = DEFAULT_KEEP_RECENT_VERSIONS
    version_tag_prefixes: tuple[str, ...] = DEFAULT_VERSION_TAG_PREFIXES
    dry_run: bool = False


@dataclass(frozen=True)
class ArtifactRegistryConfig:
    location: str
    repositories: tuple[RepositorySpec, ...]
    cleanup: CleanupSpec
    kms_key_name: str | None = None
    labels: tuple[tuple[str, str], ...] = ()  # the stack labels (labels + owner), sorted


@dataclass(frozen=True)
class AuditConfig:
    """The nightly audit job (`model-registry:audit` with enabled: true)."""

    image: str
    region: str
    schedule: str = DEFAULT_AUDIT_SCHEDULE
    time_zone: str = DEFAULT_AUDIT_TIME_ZONE
    task_count: int = DEFAULT_AUDIT_TASK_COUNT
    retention_days: int = DEFAULT_AUDIT_RETENTION_DAYS
    report_bucket: str | None = None  # None: <project>-registry-guard-reports


@dataclass(frozen=True)
class GcrConfig:
    location: str | None  # US, EU, ASIA, or None for gcr.io


@dataclass(frozen=True)
class RegistryConfig:
    """Everything the ModelRegistry component needs; exactly one of `artifact_registry` / `gcr` is set."""

    project: str
    backend: Backend
    members: Members
    artifact_registry: ArtifactRegistryConfig | None = None
    gcr: GcrConfig | None = None
    audit: AuditConfig | None = None  # None: no nightly audit job


def parse_config(raw: Mapping[str, Any], namespace: str = "model-registry") -> RegistryConfig:
    """Validate the raw config namespace (`{"<namespace>:key": "value", "gcp:project": ...}`).

    Values are strings as the Pulumi CLI passes them (JSON for lists and objects); already-decoded
    values (from tests or the automation API) are accepted too.
    """
    prefix = namespace + ":"
    own = {k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}
    for key in sorted(own):
        if key not in ALLOWED_KEYS:
            raise ConfigError(f"{prefix}{key}: unknown key; allowed keys are {', '.join(ALLOWED_KEYS)}")
    reader = _Reader(own, prefix)

    project = raw.get("gcp:project")
    if project is None or project == "":
        raise ConfigError("gcp:project: required; set it with `pulumi config set gcp:project <PROJECT_ID>`")
    if not isinstance(project, str) or not _PROJECT_RE.fullmatch(project):
        raise ConfigError(
            f"gcp:project: {project!r} is not a project id (6-30 lowercase letters, digits and hyphens, "
            "starting with a letter)"
        )

    backend = reader.string("backend", "artifact-registry")
    if backend not in BACKENDS:
        raise ConfigError(f"{prefix}backend: {backend!r} is not a backend; allowed: {', '.join(BACKENDS)}")

    # Refuse keys the chosen backend would silently ignore.
    foreign = GCR_KEYS if backend == "artifact-registry" else AR_KEYS
    for key in foreign:
        if key in own:
            other = "gcr" if backend == "artifact-registry" else "artifact-registry"
            hint = " (for gcr use gcrLocation: US, EU or ASIA)" if key == "location" else ""
            raise ConfigError(
                f"{prefix}{key}: only applies to backend {other}, but backend is {backend}{hint}"
            )

    members = Members(**{key: _members(reader, key) for key in MEMBER_KEYS})

    if backend == "gcr":
        gcr = GcrConfig(_gcr_location(reader))
        audit = _audit(reader, GCR_AUDIT_REGIONS[gcr.location])
        return RegistryConfig(project, "gcr", members, gcr=gcr, audit=audit)
    ar = _artifact_registry(reader)
    audit = _audit(reader, MULTI_REGION_AUDIT_REGIONS.get(ar.location, ar.location))
    return RegistryConfig(project, "artifact-registry", members, artifact_registry=ar, audit=audit)


def config_namespace() -> dict[str, Any]:
    """The whole raw config of the running program, all namespaces.

    Why not `pulumi.Config`: it can only answer for keys we already know, and an unknown key (a
    typo such as `reader`) must be refused. The CLI passes config in the PULUMI_CONFIG environment
    variable; the automation API and mocks set it in-process (`set_all_config`), which wins.
    """
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


def load_config() -> RegistryConfig:
    """Parse the running program's config under the current project's namespace."""
    import pulumi

    return parse_config(config_namespace(), pulumi.get_project())


# ---------------------------------------------------------------------------------------------


class _Reader:
    """Typed access to the project's keys; every error names the fully qualified key."""

    def __init__(self, values: Mapping[str, Any], prefix: str) -> None:
        self.values = values
        self.prefix = prefix

    def key(self, key: str) -> str:
        return self.prefix + key

    def has(self, key: str) -> bool:
        return key in self.values

    def string(self, key: str, default: str) -> str:
        value = self.values.get(key, default)
        if not isinstance(value, str):
            raise ConfigError(f"{self.key(key)}: expected a string, got {value!r}")
        return value

    def optional_string(self, key: str) -> str | None:
        if key not in self.values or self.values[key] in ("", None):
            return None
        return self.string(key, "")

    def json(self, key: str, default: Any, what: str) -> Any:
        """Lists and objects arrive as JSON strings from the CLI (`pulumi config set --path` or a
        YAML list in the stack file both end up that way)."""
        if key not in self.values:
            return default
        value = self.values[key]
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ConfigError(f"{self.key(key)}: expected {what} (JSON), got {value!r}") from None
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.values.get(key, default)
        if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{self.key(key)}: expected a whole number from {low} to {high}, got {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.values.get(key, default)
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(key)}: expected true or false, got {value!r}")
        return value

    def string_list(self, key: str, default: tuple[str, ...], what: str) -> tuple[str, ...]:
        value = self.json(key, list(default), f"a list of {what}")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self.key(key)}: expected a list of {what}, got {value!r}")
        return tuple(value)


def _members(reader: _Reader, key: str) -> tuple[str, ...]:
    members = reader.string_list(key, (), "IAM principals (e.g. group:ml-team@example.com)")
    seen: dict[str, int] = {}
    result: list[str] = []
    for index, member in enumerate(members):
        problem = validate_member(member)
        if problem is not None:
            # A public member's reason already names it; otherwise show the value the user typed.
            shown = "" if parse_member(member).is_public else f"{member!r} is not a principal: "
            raise ConfigError(f"{reader.key(key)}[{index}]: {shown}{problem}")
        # IAM compares identities case-insensitively; grant the canonical spelling so a later
        # audit compares like with like and two spellings cannot become two resources.
        canonical = parse_member(member).canonical
        if canonical in seen:
            raise ConfigError(
                f"{reader.key(key)}[{index}]: {member} is already listed as {key}[{seen[canonical]}]"
            )
        seen[canonical] = index
        result.append(canonical)
    return tuple(result)


def _gcr_location(reader: _Reader) -> str | None:
    value = reader.optional_string("gcrLocation")
    if value is None:
        return None
    if _ZONE_RE.fullmatch(value.lower()) or _REGION_RE.fullmatch(value.lower()):
        kind = "a zone" if _ZONE_RE.fullmatch(value.lower()) else "a region"
        raise ConfigError(
            f"{reader.key('gcrLocation')}: {value!r} is {kind}, not a Container Registry location; "
            f"allowed: {', '.join(GCR_LOCATIONS)} or unset (gcr.io)"
        )
    if value.upper() not in GCR_LOCATIONS:
        raise ConfigError(
            f"{reader.key('gcrLocation')}: {value!r} is not a Container Registry location; "
            f"allowed: {', '.join(GCR_LOCATIONS)} or unset (gcr.io)"
        )
    return value.upper()


def _ar_location(reader: _Reader) -> str:
    value = reader.string("location", DEFAULT_LOCATION)
    if _ZONE_RE.fullmatch(value):
        raise ConfigError(
            f"{reader.key('location')}: {value!r} is a zone, not a location; use its region "
            f"({value.rsplit('-', 1)[0]}) or a multi-region ({', '.join(AR_MULTI_REGIONS)})"
        )
    if not (_REGION_RE.fullmatch(value) or value in AR_MULTI_REGIONS):
        raise ConfigError(
            f"{reader.key('location')}: {value!r} is not an Artifact Registry location; allowed: a region "
            f"such as us-central1 or a multi-region ({', '.join(AR_MULTI_REGIONS)})"
        )
    return value


def _labels(value: Any, key: str) -> dict[str, str]:
    """GCP label rules: keys start with a lowercase letter; keys and values use lowercase letters,
    digits, `_` and `-`, at most 63 characters; `goog-` keys are Google's."""
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected an object of label keys to values, got {value!r}")
    labels: dict[str, str] = {}
    for label_key, label_value in value.items():
        if (
            not isinstance(label_key, str)
            or not is_label_key(label_key)
            or label_key.startswith("goog")
        ):
            raise ConfigError(
                f"{key}.{label_key}: not a label key; keys start with a lowercase letter, use only lowercase "
                "letters, digits, _ and -, are at most 63 characters and do not start with goog"
            )
        if not isinstance(label_value, str) or not _LABEL_VALUE_RE.fullmatch(label_value):
            raise ConfigError(
                f"{key}.{label_key}: {label_value!r} is not a label value; use at most 63 lowercase letters, "
                "digits, _ and -"
            )
        labels[label_key] = label_value
    return labels


def _label_value(reader: _Reader, key: str) -> str | None:
    value = reader.optional_string(key)
    if value is not None and not _LABEL_VALUE_RE.fullmatch(value):
        raise ConfigError(
            f"{reader.key(key)}: {value!r} is not a label value; "
            "use at most 63 lowercase letters, digits, _ and -"
        )
    return value


def _repositories(reader: _Reader, stack_labels: Mapping[str, str]) -> tuple[RepositorySpec, ...]:
    key = reader.key("repositories")
    entries = reader.json("repositories", list(DEFAULT_REPOSITORIES), "a list of repository names or objects")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(
            f"{key}: expected a non-empty list of repository names or {{name, description?, labels?}}"
        )
    specs: list[RepositorySpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{key}[{index}]"
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            raise ConfigError(
                f"{where}: expected a repository name or {{name, description?, labels?}}, got {entry!r}"
            )
        extra = sorted(set(entry) - {"name", "description", "labels"})
        if extra:
            raise ConfigError(f"{where}.{extra[0]}: unknown field; allowed: name, description, labels")
        name = entry.get("name")
        if not isinstance(name, str) or not is_repository_id(name):
            raise ConfigError(
                f"{where}.name: {name!r} is not a repository id; use 1-63 lowercase letters, digits and -, "
                "starting with a letter and not ending with -"
            )
        if name in seen:
            raise ConfigError(f"{where}.name: repository {name!r} is listed twice")
        seen.add(name)
        description = entry.get("description", f"Versioned model images: {name}")
        if not isinstance(description, str):
            raise ConfigError(f"{where}.description: expected a string, got {description!r}")
        # Precedence: model defaults to the repository name, then stack labels, then the entry's own.
        labels = {"model": name, **stack_labels, **_labels(entry.get("labels", {}), f"{where}.labels")}
        if len(labels) > MAX_LABELS:
            raise ConfigError(
                f"{where}.labels: {len(labels)} labels; a repository can carry at most {MAX_LABELS}"
            )
        specs.append(RepositorySpec(name, description, tuple(sorted(labels.items()))))
    return tuple(specs)


def _artifact_registry(reader: _Reader) -> ArtifactRegistryConfig:
    location = _ar_location(reader)

    stack_labels = _labels(reader.json("labels", {}, "an object of labels"), reader.key("labels"))
    owner = _label_value(reader, "owner")
    if owner is not None:
        if stack_labels.get("owner", owner) != owner:
            raise ConfigError(
                f"{reader.key('labels')}.owner: {stack_labels['owner']!r} contradicts "
                f"{reader.key('owner')} {owner!r}; set one of them"
            )
        stack_labels["owner"] = owner

    prefixes = reader.string_list("versionTagPrefixes", DEFAULT_VERSION_TAG_PREFIXES, "tag prefixes")
    if not prefixes:
        raise ConfigError(
            f"{reader.key('versionTagPrefixes')}: must not be empty: "
            "cleanup would then protect no version tag"
        )
    for index, prefix in enumerate(prefixes):
        if not _TAG_PREFIX_RE.fullmatch(prefix):
            raise ConfigError(
                f"{reader.key('versionTagPrefixes')}[{index}]: {prefix!r} cannot start a Docker tag; "
                "use letters, digits, _, . and - (not starting with . or -)"
            )

    cleanup = CleanupSpec(
        untagged_retention_days=reader.integer(
            "untaggedRetentionDays", DEFAULT_UNTAGGED_RETENTION_DAYS, 1, MAX_RETENTION_DAYS
        ),
        keep_recent_versions=reader.integer("keepRecentVersions", DEFAULT_KEEP_RECENT_VERSIONS, 1, 10000),
        version_tag_prefixes=prefixes,
        dry_run=reader.boolean("cleanupDryRun", False),
    )

    kms_key_name = reader.optional_string("kmsKeyName")
    if kms_key_name is not None:
        match = _KMS_RE.fullmatch(kms_key_name)
        if match is None:
            raise ConfigError(
                f"{reader.key('kmsKeyName')}: expected "
                "projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>, "
                f"got {kms_key_name!r}"
            )
        # Artifact Registry only accepts a key in the repository's own location.
        if match["location"] != location:
            raise ConfigError(
                f"{reader.key('kmsKeyName')}: the key is in {match['location']} but the repositories are in "
                f"{location}; use a key in {location}"
            )

    return ArtifactRegistryConfig(
        location,
        _repositories(reader, stack_labels),
        cleanup,
        kms_key_name,
        tuple(sorted(stack_labels.items())),
    )


# -- the nightly audit --------------------------------------------------------------------------


def _audit(reader: _Reader, default_region: str) -> AuditConfig | None:
    """`model-registry:audit`: every field is checked even when the audit is off, so a typo never waits
    for the day someone turns it on; `image` is only required when it is on."""
    key = reader.key("audit")
    raw = reader.json("audit", {}, "an object {enabled, image, schedule?, ...}")
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: expected an object {{enabled, image, schedule?, ...}}, got {raw!r}")
    for field_name in sorted(raw):
        if field_name not in AUDIT_KEYS:
            raise ConfigError(f"{key}.{field_name}: unknown field; allowed: {', '.join(AUDIT_KEYS)}")
    fields = _Reader(raw, f"{key}.")

    enabled = fields.boolean("enabled", False)
    schedule = _cron(fields.string("schedule", DEFAULT_AUDIT_SCHEDULE), fields.key("schedule"))
    time_zone = _time_zone(fields.string("timeZone", DEFAULT_AUDIT_TIME_ZONE), fields.key("timeZone"))
    region = fields.string("region", default_region)
    if not _REGION_RE.fullmatch(region):
        raise ConfigError(
            f"{fields.key('region')}: {region!r} is not a region; Cloud Run jobs and Cloud Scheduler run in a "
            "region such as us-central1 (not a zone or a multi-region)"
        )
    task_count = fields.integer("taskCount", DEFAULT_AUDIT_TASK_COUNT, 1, MAX_AUDIT_TASK_COUNT)
    retention_days = fields.integer("retentionDays", DEFAULT_AUDIT_RETENTION_DAYS, 1, MAX_RETENTION_DAYS)
    bucket = fields.optional_string("reportBucket")
    if bucket is not None:
        _check_bucket_name(bucket, fields.key("reportBucket"))
    image = fields.optional_string("image")
    if image is not None:
        _check_image(image, fields.key("image"))
    if not enabled:
        return None
    if image is None:
        raise ConfigError(
            f"{fields.key('image')}: required when the audit is enabled; the audit container image, e.g. "
            "us-central1-docker.pkg.dev/PROJECT/REPOSITORY/registry-guard:v0.1.0 (see docs/nightly-audit.md)"
        )
    return AuditConfig(image, region, schedule, time_zone, task_count, retention_days, bucket)


def _cron(value: str, key: str) -> str:
    fields = value.split()
    if len(fields) != len(_CRON_FIELDS):
        raise ConfigError(
            f"{key}: {value!r} is not a cron schedule; expected 5 fields (minute hour day-of-month month "
            "day-of-week), e.g. '0 3 * * *'"
        )
    for text, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for item in text.split(","):
            body, _, step = item.partition("/")
            ends = [] if body == "*" else body.split("-")
            numbers = [_cron_number(end, names, low) for end in ends]
            if (
                item.count("/") > 1
                or len(ends) > 2
                or any(n is None or not low <= n <= high for n in numbers)
                or (step and (not step.isdigit() or int(step) == 0))
                or (len(numbers) == 2 and numbers[0] > numbers[1])  # type: ignore[operator]
            ):
                raise ConfigError(
                    f"{key}: {value!r}: {name} field {text!r} is not valid; use *, a number from {low} to {high}"
                    f"{' (or a name)' if names else ''}, a range a-b, a list a,b or a step */n"
                )
    return " ".join(fields)


def _cron_number(text: str, names: tuple[str, ...], low: int) -> int | None:
    if text.isdigit():
        return int(text)
    if text.upper() in names:
        return names.index(text.upper()) + low
    return None


def _time_zone(value: str, key: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{key}: {value!r} is not a time zone; use a tz database name such as Etc/UTC or Europe/Berlin"
        ) from None
    return value


def _check_bucket_name(value: str, key: str) -> None:
    if (
        not _BUCKET_RE.fullmatch(value)
        or value.startswith("goog")
        or "google" in value
        or ".." in value
        or _IPV4_RE.fullmatch(value)
        or "." in value  # dotted names need a verified domain; not worth the surprise for a report bucket
    ):
        raise ConfigError(
            f"{key}: {value!r} is not a usable bucket name; use 3-63 lowercase letters, digits, - and _, "
            "starting and ending with a letter or digit, without goog or google"
        )


def _check_image(value: str, key: str) -> None:
    match = _IMAGE_RE.fullmatch(value)
    if match is None:
        raise ConfigError(
            f"{key}: {value!r} is not a full image reference; expected HOST/PATH:TAG or HOST/PATH@sha256:DIGEST, "
            "e.g. us-central1-docker.pkg.dev/PROJECT/REPOSITORY/registry-guard:v0.1.0"
        )
    if match["digest"] is None and match["tag"] in (None, "latest"):
        raise ConfigError(
            f"{key}: {value!r} names no version; pin a version tag (e.g. :v0.1.0) or a digest (@sha256:...), "
            "never latest, so every night runs the audit you reviewed"
        )
