"""The nightly audit: a Cloud Run job that runs `python -m audit scan` against the registry every night,
started by Cloud Scheduler, with its own read-only identity and a report bucket evidence cannot be
rewritten in. Declared only when `model-registry:audit` has `enabled: true`.

Why a separate component next to `ModelRegistry` (composed in `__main__.py`): the audit watches the
registry, it is not part of it. Turning it off or on never touches a repository or a grant on one, and
`pulumi stack` shows the audit's resources grouped under their own name.

Identity, least privilege (docs/nightly-audit.md explains each permission):
* the auditor service account runs the job. It holds one custom role with exactly the read calls the scan
  makes on the registry, and, on the report bucket only, objectViewer (read the previous scan's history)
  and objectCreator (write the new snapshot and reports). It cannot pull images, change IAM or delete.
* the invoker service account only starts the job: roles/run.invoker on this one job. Cloud Scheduler
  mints its OAuth token for the jobs:run call.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pulumi
import pulumi_gcp as gcp

from model_registry.config import AuditConfig, RegistryConfig

TYPE_TOKEN = "model-registry-guard:index:NightlyAudit"

JOB_NAME = "registry-guard-audit"
SCHEDULER_JOB_NAME = "registry-guard-audit-nightly"
AUDITOR_ACCOUNT_ID = "registry-guard-auditor"
INVOKER_ACCOUNT_ID = "registry-guard-audit-invoker"
CUSTOM_ROLE_ID = "registryGuardAuditor"
REPORTS_PREFIX = "reports"
HISTORY_PREFIX = "history"
INPUTS_PREFIX = "inputs"
# Config field -> (the wrapper's environment variable naming the object, file suffix).
INPUT_OBJECTS = {"waivers": ("WAIVERS_OBJECT", ".yaml"), "settings": ("SETTINGS_OBJECT", ".yaml"),
                 "desiredState": ("DESIRED_OBJECT", ".json")}
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
REPORT_FORMATS = ("json", "sarif", "html")
TASK_TIMEOUT = "3600s"
DAY_SECONDS = 86400

# The read calls `python -m audit scan` makes, per backend, and nothing else (sorted: the role's order
# is the API's, and a stable order keeps previews quiet).
AR_PERMISSIONS: tuple[str, ...] = (
    "artifactregistry.dockerimages.list",  # ListDockerImages: tags, digests, sizes, upload times
    "artifactregistry.repositories.get",  # GetRepository (--repository); the same metadata list returns
    "artifactregistry.repositories.getIamPolicy",  # GetIamPolicy (v3) of each repository
    "artifactregistry.repositories.list",  # ListRepositories in projects/P/locations/L
)
GCR_PERMISSIONS: tuple[str, ...] = (
    "storage.buckets.get",  # bucket metadata: uniform access, public access prevention; ACL reads
    "storage.buckets.getIamPolicy",  # bucket IAM policy; ACL reads need it too
)
# `scan --effective-access` on the project: its place in the hierarchy and IAM, its custom roles, its service
# accounts' IAM (docs/nightly-audit.md; folders and the organization are granted there, not by this stack).
ACCESS_PERMISSIONS: tuple[str, ...] = (
    "iam.roles.get",  # roles.get of the project's custom roles (Google's predefined roles need none)
    "iam.serviceAccounts.getIamPolicy",  # who may act as each of the project's service accounts
    "resourcemanager.projects.get",  # projects.get: the folder or organization above the project
    "resourcemanager.projects.getIamPolicy",  # the project's IAM policy (v3): grants inherited by the registry
)
ACCESS_ROLE_ID = "registryGuardAccessReader"
REPORT_BUCKET_ROLES: tuple[str, ...] = ("roles/storage.objectCreator", "roles/storage.objectViewer")
INVOKER_ROLE = "roles/run.invoker"

# The job's entrypoint, a short `sh` script (docs/nightly-audit.md walks through it):
#
# 1. Inputs. The waivers, settings and desired-state files the stack uploaded to the report bucket
#    (`inputs/`, named by their digest) are downloaded and passed as --waivers, --config and --desired. One
#    that cannot be read stops the task with exit 3: judging without the team's waivers or desired state
#    would report something other than what the team configured.
# 2. The scan. The CLI writes reports to a local directory (tmp file, then rename); a rename on a Cloud
#    Storage FUSE mount is copy + delete, and the report bucket's retention policy refuses the delete, so
#    reports are written to /tmp and then uploaded create-only (ifGenerationMatch=0, as the history store
#    does) under reports/<date>/<execution>/task-<n>/, with the manifest of their SHA-256 digests.
# 3. One report. With more than one task, each task, once its own reports are stored, lists the shard reports
#    of its execution; the task that finds all of them (the last to finish) runs `python -m audit merge` and
#    stores the merged set under reports/<date>/<execution>/merged/. The merge is complete only when every
#    shard's scan was. Two tasks finishing together may both merge: the create-only upload keeps the first.
#
# The audit's exit code is kept: 0 clean, 1 findings at or above --fail-on, 2 bad input, 3 incomplete scan
# (the merging task reports the worse of its own scan and the merge); 4 only when a clean scan's reports
# could not be stored.
WRAPPER_SCRIPT = r"""set -u
work="${TMPDIR:-/tmp}/registry-guard"
reports="$work/reports"
inputs="$work/inputs"
mkdir -p "$inputs"
if ! python - "$inputs" "$REPORT_BUCKET" <<'PY'
import os
import sys

from google.cloud import storage

target, bucket_name = sys.argv[1], sys.argv[2]
wanted = {name: os.environ.get(f"{name.upper()}_OBJECT", "") for name in ("waivers", "settings", "desired")}
bucket = storage.Client().bucket(bucket_name) if any(wanted.values()) else None
for name, key in wanted.items():
    if key:
        bucket.blob(key).download_to_filename(os.path.join(target, name))
        print(f"registry-guard: read gs://{bucket_name}/{key}", flush=True)
PY
then
    echo "registry-guard: the audit's inputs (waivers, settings, desired state) could not be read" >&2
    exit 3
fi
[ -n "${WAIVERS_OBJECT:-}" ] && set -- "$@" --waivers "$inputs/waivers"
[ -n "${SETTINGS_OBJECT:-}" ] && set -- "$@" --config "$inputs/settings"
[ -n "${DESIRED_OBJECT:-}" ] && set -- "$@" --desired "$inputs/desired"
python -m audit "$@" --output "$reports"
status=$?
execution="${CLOUD_RUN_EXECUTION:-manual-$(date -u +%H%M%S)}"
day="${REPORT_PREFIX:-reports}/$(date -u +%Y-%m-%d)/$execution"
if ! python - "$reports" "$REPORT_BUCKET" "$day/task-${CLOUD_RUN_TASK_INDEX:-0}" <<'PY'
import pathlib
import sys

from google.cloud import storage

source, bucket_name, prefix = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
files = sorted(p for p in source.glob("*") if p.is_file() and not p.name.startswith(".")) if source.is_dir() else []
bucket = storage.Client().bucket(bucket_name)
for path in files:
    blob = bucket.blob(f"{prefix}/{path.name}")
    blob.upload_from_filename(str(path), if_generation_match=0)  # create only: evidence is never replaced
    print(f"registry-guard: stored gs://{bucket_name}/{blob.name}", flush=True)
PY
then
    echo "registry-guard: reports not stored in gs://$REPORT_BUCKET/$day/task-${CLOUD_RUN_TASK_INDEX:-0}" >&2
    if [ "$status" -eq 0 ]; then exit 4; fi
    exit "$status"
fi
if [ "${CLOUD_RUN_TASK_COUNT:-1}" -gt 1 ]; then
    python - "$work/merge" "$REPORT_BUCKET" "${REPORT_PREFIX:-reports}" "$execution" "$day/merged" \
        "${CLOUD_RUN_TASK_COUNT}" "${REPORT_FORMATS:-json}" <<'PY'
import pathlib
import re
import subprocess
import sys

from google.api_core.exceptions import PreconditionFailed
from google.cloud import storage

work, bucket_name, root, execution, merged, count, formats = sys.argv[1:8]
bucket = storage.Client().bucket(bucket_name)
shard = re.compile(rf"^{re.escape(root)}/[^/]+/{re.escape(execution)}/task-(\d+)/registry-guard-scan\.json$")
found = {int(m[1]): b for b in bucket.list_blobs(prefix=f"{root}/") if (m := shard.match(b.name))}
if len(found) < int(count):
    print(f"registry-guard: {len(found)} of {count} shard reports stored; the last task merges", flush=True)
    sys.exit(0)
shards = pathlib.Path(work, "shards")
shards.mkdir(parents=True, exist_ok=True)
files = []
for index, blob in sorted(found.items()):
    files.append(str(shards / f"task-{index}.json"))
    blob.download_to_filename(files[-1])
out = pathlib.Path(work, "merged")
merge = subprocess.run([sys.executable, "-m", "audit", "merge", *files, "--output", str(out),
                        *(arg for name in formats.split() for arg in ("--format", name))])
try:
    for path in sorted(p for p in out.glob("*") if p.is_file() and not p.name.startswith(".")):
        bucket.blob(f"{merged}/{path.name}").upload_from_filename(str(path), if_generation_match=0)
        print(f"registry-guard: stored gs://{bucket_name}/{merged}/{path.name}", flush=True)
except PreconditionFailed:
    print(f"registry-guard: another task already stored the merged report in gs://{bucket_name}/{merged}/")
    sys.exit(0)
except Exception as exc:
    print(f"registry-guard: merged report not stored in gs://{bucket_name}/{merged}/ ({type(exc).__name__})",
          file=sys.stderr)
    sys.exit(4)
sys.exit(merge.returncode)
PY
    merged=$?
    if [ "$merged" -eq 4 ]; then
        if [ "$status" -eq 0 ]; then status=4; fi
    elif [ "$merged" -gt "$status" ]; then
        status=$merged
    fi
fi
exit "$status"
"""


def default_report_bucket(project: str) -> str:
    """`<project>-registry-guard-reports`; a domain-scoped project (example.com:proj) loses its domain."""
    return f"{project.rsplit(':', 1)[-1]}-registry-guard-reports"


def input_object_name(field: str, path: Path) -> str:
    """Where an input file is kept in the report bucket: named by its content's digest, because the bucket's
    retention policy forbids replacing an object (a changed file is a new object; the old one stays, a
    record of what earlier runs used)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"{INPUTS_PREFIX}/{field}-{digest}{INPUT_OBJECTS[field][1]}"


def run_job_uri(project: str, region: str, job_name: str) -> str:
    """The Cloud Run Admin API v2 call Cloud Scheduler POSTs to start one execution."""
    return f"https://run.googleapis.com/v2/projects/{project}/locations/{region}/jobs/{job_name}:run"


def scan_args(config: RegistryConfig, report_bucket: str, gcr_bucket: pulumi.Input[str] | None) -> list[Any]:
    """`python -m audit scan` arguments for the configured backend (the wrapper adds --output)."""
    if config.artifact_registry is not None:
        target: list[Any] = ["--project", config.project, "--location", config.artifact_registry.location]
    elif gcr_bucket is not None:
        target = ["--gcr-bucket", gcr_bucket]
    else:
        raise ValueError("the nightly audit needs the Container Registry bucket name for backend gcr")
    formats = [arg for name in REPORT_FORMATS for arg in ("--format", name)]
    return ["scan", *target, "--effective-access", "--history", f"gs://{report_bucket}/{HISTORY_PREFIX}", *formats,
            "--fail-on", "high"]


class NightlyAudit(pulumi.ComponentResource):
    """Auditor and invoker service accounts, the read-only custom role and its grant, the report bucket,
    the Cloud Run job and the Cloud Scheduler job that starts it. `outputs` holds the values to export."""

    outputs: dict[str, Any]

    def __init__(
        self,
        name: str,
        config: RegistryConfig,
        *,
        gcr_bucket: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        if config.audit is None:
            raise ValueError("NightlyAudit needs config.audit (model-registry:audit with enabled: true)")
        audit: AuditConfig = config.audit
        project = config.project
        child = pulumi.ResourceOptions(parent=self)
        labels = {
            **dict(config.artifact_registry.labels if config.artifact_registry else ()),
            "app": "model-registry-guard",
            "component": "nightly-audit",
        }
        # -- identities --------------------------------------------------------------------------
        auditor = gcp.serviceaccount.Account(
            f"{name}-auditor",
            project=project,
            account_id=AUDITOR_ACCOUNT_ID,
            display_name="Model Registry Guard nightly audit (read-only)",
            description="Runs the nightly registry audit: reads registry settings, IAM and images; "
            "writes only its own reports.",
            opts=child,
        )
        invoker = gcp.serviceaccount.Account(
            f"{name}-invoker",
            project=project,
            account_id=INVOKER_ACCOUNT_ID,
            display_name="Model Registry Guard nightly audit: scheduler invoker",
            description="Used by Cloud Scheduler only to start the registry-guard-audit Cloud Run job.",
            opts=child,
        )
        auditor_member = auditor.email.apply(lambda email: f"serviceAccount:{email}")
        invoker_member = invoker.email.apply(lambda email: f"serviceAccount:{email}")

        # -- the read-only custom role and where it is granted -----------------------------------
        gcr = config.artifact_registry is None
        role = gcp.projects.IAMCustomRole(
            f"{name}-role",
            project=project,
            role_id=CUSTOM_ROLE_ID,
            title="Model Registry Guard auditor (read-only)",
            description="Exactly the read calls of `python -m audit scan`: no image pulls, no writes.",
            # Artifact Registry's role is granted at the project, so it carries the effective-access reads too;
            # Container Registry's is granted on the bucket, where project permissions mean nothing.
            permissions=list(GCR_PERMISSIONS if gcr else sorted(AR_PERMISSIONS + ACCESS_PERMISSIONS)),
            stage="GA",
            opts=child,
        )
        if gcr:
            # Container Registry is one bucket: the role is granted on it and nowhere else.
            if gcr_bucket is None:
                raise ValueError("NightlyAudit needs gcr_bucket for backend gcr")
            registry_grant: pulumi.Resource = gcp.storage.BucketIAMMember(
                f"{name}-auditor-registry-bucket",
                bucket=gcr_bucket,
                role=role.name,
                member=auditor_member,
                opts=child,
            )
        else:
            # ListRepositories is a call on projects/P/locations/L, so it can only be granted at the project;
            # a project grant also covers repositories created outside this stack, which are exactly what an
            # audit must see.
            registry_grant = gcp.projects.IAMMember(
                f"{name}-auditor-project",
                project=project,
                role=role.name,
                member=auditor_member,
                opts=child,
            )

        # -- the report bucket -------------------------------------------------------------------
        bucket_name = audit.report_bucket or default_report_bucket(project)
        bucket = gcp.storage.Bucket(
            f"{name}-reports",
            project=project,
            name=bucket_name,
            location=audit.region.upper(),
            storage_class="STANDARD",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            # Reports and history snapshots cannot be deleted or replaced for retentionDays. Cloud Storage
            # refuses Object Versioning on a bucket with a retention policy (the two are mutually
            # exclusive), so versioning is stated off: the retention policy is the stronger guarantee.
            retention_policy=gcp.storage.BucketRetentionPolicyArgs(
                retention_period=str(audit.retention_days * DAY_SECONDS),
            ),
            versioning=gcp.storage.BucketVersioningArgs(enabled=False),
            force_destroy=False,
            labels=labels,
            # Turning the audit off must not try to delete evidence: the bucket leaves the stack, stays in GCP.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        grants: list[pulumi.Resource] = [registry_grant]
        if gcr:
            access_role = gcp.projects.IAMCustomRole(
                f"{name}-access-role",
                project=project,
                role_id=ACCESS_ROLE_ID,
                title="Model Registry Guard effective access reader (read-only)",
                description="The project's ancestry and IAM, its custom roles and its service accounts' IAM, for "
                "`python -m audit scan --effective-access`: no writes.",
                permissions=list(ACCESS_PERMISSIONS),
                stage="GA",
                opts=child,
            )
            grants.append(gcp.projects.IAMMember(
                f"{name}-auditor-access", project=project, role=access_role.name, member=auditor_member, opts=child))
        for bucket_role in REPORT_BUCKET_ROLES:
            grants.append(
                gcp.storage.BucketIAMMember(
                    f"{name}-auditor-{bucket_role.rsplit('.', 1)[-1].lower()}",
                    bucket=bucket.name,
                    role=bucket_role,
                    member=auditor_member,
                    opts=child,
                )
            )

        # -- the team's input files: waivers, settings, desired state --------------------------------
        input_env: list[tuple[str, str]] = []
        stored: list[pulumi.Resource] = []
        for field_name, path in audit.inputs().items():
            object_name = input_object_name(field_name, path)
            stored.append(gcp.storage.BucketObject(
                f"{name}-input-{field_name.lower()}",
                bucket=bucket.name,
                name=object_name,
                source=pulumi.FileAsset(str(path)),
                content_type="application/json" if object_name.endswith(".json") else "application/yaml",
                # The retention policy refuses deleting it; a changed file is a new object (see above).
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            ))
            input_env.append((INPUT_OBJECTS[field_name][0], object_name))

        # -- the Cloud Run job ---------------------------------------------------------------------
        job = gcp.cloudrunv2.Job(
            f"{name}-job",
            project=project,
            location=audit.region,
            name=JOB_NAME,
            labels=labels,
            deletion_protection=False,  # the evidence is protected by the bucket, not by the job
            template=gcp.cloudrunv2.JobTemplateArgs(
                task_count=audit.task_count,
                labels=labels,
                template=gcp.cloudrunv2.JobTemplateTemplateArgs(
                    service_account=auditor.email,
                    # A retry after a finished scan would write a second history snapshot and turn every new
                    # finding into "still open"; exit 1 (findings) is a result, not a failure to retry.
                    max_retries=0,
                    timeout=TASK_TIMEOUT,
                    containers=[
                        gcp.cloudrunv2.JobTemplateTemplateContainerArgs(
                            name="audit",
                            image=audit.image,
                            commands=["/bin/sh", "-c", WRAPPER_SCRIPT, JOB_NAME],
                            args=scan_args(config, bucket_name, gcr_bucket),
                            envs=[
                                gcp.cloudrunv2.JobTemplateTemplateContainerEnvArgs(name=key, value=value)
                                for key, value in (
                                    ("REPORT_BUCKET", bucket_name),
                                    ("REPORT_PREFIX", REPORTS_PREFIX),
                                    ("REPORT_FORMATS", " ".join(REPORT_FORMATS)),
                                    ("PYTHONUNBUFFERED", "1"),
                                    *input_env,
                                )
                            ],
                            resources=gcp.cloudrunv2.JobTemplateTemplateContainerResourcesArgs(
                                limits={"cpu": "1", "memory": "1Gi"},
                            ),
                        )
                    ],
                ),
            ),
            opts=child,
        )
        invoker_grant = gcp.cloudrunv2.JobIamMember(
            f"{name}-invoker-run",
            project=project,
            location=audit.region,
            name=job.name,
            role=INVOKER_ROLE,
            member=invoker_member,
            opts=child,
        )

        # -- Cloud Scheduler ----------------------------------------------------------------------
        scheduler = gcp.cloudscheduler.Job(
            f"{name}-schedule",
            project=project,
            region=audit.region,
            name=SCHEDULER_JOB_NAME,
            description="Starts the registry-guard-audit Cloud Run job (Model Registry Guard nightly audit).",
            schedule=audit.schedule,
            time_zone=audit.time_zone,
            attempt_deadline="180s",
            retry_config=gcp.cloudscheduler.JobRetryConfigArgs(retry_count=2, min_backoff_duration="60s"),
            http_target=gcp.cloudscheduler.JobHttpTargetArgs(
                http_method="POST",
                uri=job.name.apply(lambda job_name: run_job_uri(project, audit.region, job_name)),
                oauth_token=gcp.cloudscheduler.JobHttpTargetOauthTokenArgs(
                    service_account_email=invoker.email,
                    scope=CLOUD_PLATFORM_SCOPE,
                ),
            ),
            # The first scheduled run must find every grant and input file in place, or it reads nothing.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*grants, invoker_grant, *stored]),
        )

        self.outputs = {
            "job": job.name,
            "region": audit.region,
            "schedule": scheduler.schedule,
            "time_zone": scheduler.time_zone,
            "image": audit.image,
            "auditor": auditor.email,
            "invoker": invoker.email,
            "custom_role": role.name,
            "report_bucket": bucket.name,
            "reports_url": f"gs://{bucket_name}/{REPORTS_PREFIX}/",
            "inputs": {field_name: f"gs://{bucket_name}/{object_name}"
                       for field_name, (_, object_name) in zip(audit.inputs(), input_env, strict=True)},
            "history_url": f"gs://{bucket_name}/{HISTORY_PREFIX}/",
            "run_now_command": f"gcloud run jobs execute {JOB_NAME} --region {audit.region} --project {project}",
        }
        self.register_outputs(self.outputs)
