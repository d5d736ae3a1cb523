"""Checks for single config values, each a pure function of the value and the key it was read from.

Every check raises `ConfigError` with one line: the key, the value, and what is allowed. Checks that
accept a value return it as the component should use it (e.g. a cron schedule with its spacing
normalised). Repository ids and label keys follow the catalogue's statement of Google's naming rules
(`registry_guard.catalogue.names`), so the stack and the rules can never disagree about them.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from registry_guard.catalogue.names import is_label_key

from model_registry.config.errors import ConfigError

# The longest retention any setting accepts (cleanup of untagged images, the audit's report bucket).
MAX_RETENTION_DAYS = 3650

_REGION_RE = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_ZONE_RE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")
# Project ids: 6-30 chars; legacy domain-scoped ids look like example.com:my-project.
_PROJECT_RE = re.compile(r"^([a-z0-9.-]+\.[a-z]{2,}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_LABEL_VALUE_RE = re.compile(r"^[a-z0-9_-]{0,63}$")
_TAG_PREFIX_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_KMS_RE = re.compile(
    r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+$"
)
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


def is_region(text: str) -> bool:
    """A Google Cloud region such as us-central1."""
    return _REGION_RE.fullmatch(text) is not None


def is_zone(text: str) -> bool:
    """A Google Cloud zone such as us-central1-a."""
    return _ZONE_RE.fullmatch(text) is not None


def is_project_id(text: str) -> bool:
    return _PROJECT_RE.fullmatch(text) is not None


def check_labels(value: Any, key: str) -> dict[str, str]:
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
        labels[label_key] = check_label_value(label_value, f"{key}.{label_key}")
    return labels


def check_label_value(value: Any, key: str) -> str:
    if not isinstance(value, str) or not _LABEL_VALUE_RE.fullmatch(value):
        raise ConfigError(
            f"{key}: {value!r} is not a label value; use at most 63 lowercase letters, digits, _ and -"
        )
    return value


def check_tag_prefix(value: str, key: str) -> str:
    if not _TAG_PREFIX_RE.fullmatch(value):
        raise ConfigError(
            f"{key}: {value!r} cannot start a Docker tag; use letters, digits, _, . and - (not starting with . or -)"
        )
    return value


def kms_key_location(value: str, key: str) -> str:
    """The location of a Cloud KMS key given by its full resource name."""
    match = _KMS_RE.fullmatch(value)
    if match is None:
        raise ConfigError(
            f"{key}: expected projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>, "
            f"got {value!r}"
        )
    return match["location"]


def check_cron(value: str, key: str) -> str:
    """A unix-cron schedule as Cloud Scheduler reads it; returned with single spaces between fields."""
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


def check_time_zone(value: str, key: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{key}: {value!r} is not a time zone; use a tz database name such as Etc/UTC or Europe/Berlin"
        ) from None
    return value


def check_bucket_name(value: str, key: str) -> str:
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
    return value


def check_image(value: str, key: str) -> str:
    """A full image reference pinned to a version: HOST/PATH:TAG (not latest) or HOST/PATH@sha256:DIGEST."""
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
    return value
