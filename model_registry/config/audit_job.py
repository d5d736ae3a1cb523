"""The nightly audit job's config (`model-registry:audit`, an object); the job itself is declared by
`model_registry.nightly_audit`.

`waivers`, `settings` and `desiredState` name files the team keeps next to the stack (paths relative to
the Pulumi project directory, where `pulumi` runs). Each is read and checked here with the audit's own
loader, so a file the nightly job would refuse stops `pulumi preview` instead, with one line naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from model_registry.config.errors import ConfigError
from model_registry.config.reader import ConfigReader
from model_registry.config.validators import (
    MAX_RETENTION_DAYS,
    check_bucket_name,
    check_cron,
    check_image,
    check_time_zone,
    is_region,
)

AUDIT_KEYS = (
    "enabled", "schedule", "timeZone", "region", "image", "taskCount", "retentionDays", "reportBucket",
    "waivers", "settings", "desiredState",
)
# The input files: config field -> the `python -m audit scan` option the job passes it with.
AUDIT_INPUTS = {"waivers": "--waivers", "settings": "--config", "desiredState": "--desired"}
DEFAULT_AUDIT_SCHEDULE = "0 3 * * *"
DEFAULT_AUDIT_TIME_ZONE = "Etc/UTC"
DEFAULT_AUDIT_TASK_COUNT = 1
MAX_AUDIT_TASK_COUNT = 100
DEFAULT_AUDIT_RETENTION_DAYS = 365
# Cloud Run and Cloud Scheduler run in a region; a multi-region registry gets its audit in a region inside it.
MULTI_REGION_AUDIT_REGIONS = {"us": "us-central1", "europe": "europe-west1", "asia": "asia-east1"}
GCR_AUDIT_REGIONS = {None: "us-central1", "US": "us-central1", "EU": "europe-west1", "ASIA": "asia-east1"}


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
    # Input files, resolved: waivers (--waivers), settings (--config), desiredState (--desired).
    waivers: Path | None = None
    settings: Path | None = None
    desired_state: Path | None = None

    def inputs(self) -> dict[str, Path]:
        """Config field -> file, for the inputs that are set."""
        files = {"waivers": self.waivers, "settings": self.settings, "desiredState": self.desired_state}
        return {name: path for name, path in files.items() if path is not None}


def check_input_file(name: str, value: str, where: str, base: Path) -> Path:
    """`value` (relative to `base`) as a file the audit reads for `name`, checked by the audit's own loader."""
    path = Path(value) if Path(value).is_absolute() else base / value
    if not path.is_file():
        raise ConfigError(f"{where}: {value!r} is not a file (paths are relative to the Pulumi project directory)")
    try:
        if name == "waivers":
            from audit.waivers import load_waivers

            load_waivers(path)
        elif name == "settings":
            from audit.settings_file import load_settings

            load_settings(path)
        else:
            from audit.sources.stack_export import load_stack_export

            load_stack_export(path)
    except ValueError as exc:  # WaiverError, SettingsError and StackExportError: one line naming the file
        raise ConfigError(f"{where}: {str(exc).splitlines()[0]}") from None
    return path.resolve()


def read_audit_job(reader: ConfigReader, default_region: str, base: Path | None = None) -> AuditConfig | None:
    """`model-registry:audit`: every field is checked even when the audit is off, so a typo never waits
    for the day someone turns it on; `image` is only required when it is on. None when it is off. Input
    file paths are relative to `base` (default: the working directory, the project's when `pulumi` runs)."""
    key = reader.key("audit")
    raw = reader.json("audit", {}, "an object {enabled, image, schedule?, ...}")
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: expected an object {{enabled, image, schedule?, ...}}, got {raw!r}")
    for field_name in sorted(raw):
        if field_name not in AUDIT_KEYS:
            raise ConfigError(f"{key}.{field_name}: unknown field; allowed: {', '.join(AUDIT_KEYS)}")
    fields = ConfigReader(raw, f"{key}.")

    enabled = fields.boolean("enabled", False)
    schedule = check_cron(fields.string("schedule", DEFAULT_AUDIT_SCHEDULE), fields.key("schedule"))
    time_zone = check_time_zone(fields.string("timeZone", DEFAULT_AUDIT_TIME_ZONE), fields.key("timeZone"))
    region = fields.string("region", default_region)
    if not is_region(region):
        raise ConfigError(
            f"{fields.key('region')}: {region!r} is not a region; Cloud Run jobs and Cloud Scheduler run in a "
            "region such as us-central1 (not a zone or a multi-region)"
        )
    task_count = fields.integer("taskCount", DEFAULT_AUDIT_TASK_COUNT, 1, MAX_AUDIT_TASK_COUNT)
    retention_days = fields.integer("retentionDays", DEFAULT_AUDIT_RETENTION_DAYS, 1, MAX_RETENTION_DAYS)
    bucket = fields.optional_string("reportBucket")
    if bucket is not None:
        check_bucket_name(bucket, fields.key("reportBucket"))
    image = fields.optional_string("image")
    if image is not None:
        check_image(image, fields.key("image"))
    inputs: dict[str, Path] = {}
    for name in AUDIT_INPUTS:
        value = fields.optional_string(name)
        if value is not None:
            inputs[name] = check_input_file(name, value, fields.key(name), base or Path.cwd())
    if not enabled:
        return None
    if image is None:
        raise ConfigError(
            f"{fields.key('image')}: required when the audit is enabled; the audit container image, e.g. "
            "us-central1-docker.pkg.dev/PROJECT/REPOSITORY/registry-guard:v0.1.0 (see docs/nightly-audit.md)"
        )
    return AuditConfig(image, region, schedule, time_zone, task_count, retention_days, bucket,
                       waivers=inputs.get("waivers"), settings=inputs.get("settings"),
                       desired_state=inputs.get("desiredState"))
