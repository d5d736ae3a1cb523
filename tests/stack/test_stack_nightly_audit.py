"""The nightly audit (`model-registry:audit`), declared by the real `__main__.py` under mocks: with
`enabled: true` the job, scheduler, accounts, custom role and report bucket exist with the right
settings; without it none of them do."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from stack_helpers import (
    AR_IAM_MEMBER,
    AR_REPOSITORY,
    BUCKET_IAM_MEMBER,
    COMPONENT,
    MAIN_PROGRAM,
    PROJECT,
    REPO_ROOT,
    FailStack,
    RunStack,
)

from audit.sources.stack_program import StackRun, run_stack_program
from model_registry.nightly_audit import WRAPPER_SCRIPT

AUDIT_COMPONENT = "model-registry-guard:index:NightlyAudit"
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"
CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
BUCKET = "gcp:storage/bucket:Bucket"
RUN_JOB = "gcp:cloudrunv2/job:Job"
RUN_JOB_IAM_MEMBER = "gcp:cloudrunv2/jobIamMember:JobIamMember"
SCHEDULER_JOB = "gcp:cloudscheduler/job:Job"
AUDIT_TYPES = (
    AUDIT_COMPONENT, SERVICE_ACCOUNT, CUSTOM_ROLE, PROJECT_IAM_MEMBER, BUCKET, RUN_JOB, RUN_JOB_IAM_MEMBER,
    SCHEDULER_JOB,
)

IMAGE = f"us-central1-docker.pkg.dev/{PROJECT}/tools/registry-guard:v0.1.0"
AUDITOR = f"serviceAccount:registry-guard-auditor@{PROJECT}.iam.gserviceaccount.com"
INVOKER_EMAIL = f"registry-guard-audit-invoker@{PROJECT}.iam.gserviceaccount.com"
ROLE_NAME = f"projects/{PROJECT}/roles/registryGuardAuditor"
REPORT_BUCKET = f"{PROJECT}-registry-guard-reports"
ACCESS_PERMISSIONS = [  # scan --effective-access, at the project
    "iam.roles.get",
    "iam.serviceAccounts.getIamPolicy",
    "resourcemanager.projects.get",
    "resourcemanager.projects.getIamPolicy",
]
AR_PERMISSIONS = sorted([
    "artifactregistry.dockerimages.list",
    "artifactregistry.repositories.get",
    "artifactregistry.repositories.getIamPolicy",
    "artifactregistry.repositories.list",
    *ACCESS_PERMISSIONS,
])
GCR_PERMISSIONS = ["storage.buckets.get", "storage.buckets.getIamPolicy"]
ACCESS_ROLE_NAME = f"projects/{PROJECT}/roles/registryGuardAccessReader"
# Nothing in either role writes, deletes, changes IAM or pulls an image.
WRITE_VERBS = (".create", ".delete", ".update", ".set", ".upload", ".download", ".actAs", ".getAccessToken",
               ".sign", ".undelete", ".move")


def audit(**fields: Any) -> dict[str, str]:
    return {"audit": json.dumps({"enabled": True, "image": IMAGE, **fields})}


def container(run: StackRun) -> dict[str, Any]:
    (job,) = run.of_type(RUN_JOB)
    (only,) = job.inputs["template"]["template"]["containers"]
    return dict(only)


def test_enabled_declares_job_scheduler_accounts_role_and_bucket(run_stack: RunStack) -> None:
    run = run_stack({"owner": "ml-platform", **audit()})

    # One component for the audit, a sibling of the registry, parent of every audit resource.
    (component,) = run.of_type(AUDIT_COMPONENT)
    assert component.parent == run.stack_urn
    (registry,) = run.of_type(COMPONENT)
    children = sorted(r.type for r in run.resources if r.parent == component.urn)
    assert children == sorted([
        SERVICE_ACCOUNT, SERVICE_ACCOUNT, CUSTOM_ROLE, PROJECT_IAM_MEMBER, BUCKET, BUCKET_IAM_MEMBER,
        BUCKET_IAM_MEMBER, RUN_JOB, RUN_JOB_IAM_MEMBER, SCHEDULER_JOB,
    ])
    # The registry itself is unchanged: one repository, no grants on it from the audit.
    assert [r.parent for r in run.of_type(AR_REPOSITORY)] == [registry.urn]
    assert run.of_type(AR_IAM_MEMBER) == ()

    # The custom role: exactly the read calls of the Artifact Registry scan, and nothing that pulls.
    (role,) = run.of_type(CUSTOM_ROLE)
    assert role.inputs["permissions"] == AR_PERMISSIONS
    assert role.inputs["roleId"] == "registryGuardAuditor"
    assert role.inputs["project"] == PROJECT
    assert role.inputs["stage"] == "GA"
    assert "artifactregistry.repositories.downloadArtifacts" not in role.inputs["permissions"]
    assert not [p for p in role.inputs["permissions"] if any(v in p for v in WRITE_VERBS)]

    # Granted once, at the project (ListRepositories is a project/location call).
    (grant,) = run.of_type(PROJECT_IAM_MEMBER)
    assert grant.inputs == {"project": PROJECT, "role": ROLE_NAME, "member": AUDITOR}

    accounts = {r.inputs["accountId"]: r.inputs for r in run.of_type(SERVICE_ACCOUNT)}
    assert set(accounts) == {"registry-guard-auditor", "registry-guard-audit-invoker"}
    assert all(a["project"] == PROJECT for a in accounts.values())


def test_report_bucket_is_hardened_retained_and_only_the_auditor_writes(run_stack: RunStack) -> None:
    run = run_stack({"owner": "ml-platform", "labels": json.dumps({"environment": "prod"}), **audit()})

    (bucket,) = run.of_type(BUCKET)
    inputs = bucket.inputs
    assert inputs["name"] == REPORT_BUCKET
    assert inputs["location"] == "US-CENTRAL1"
    assert inputs["uniformBucketLevelAccess"] is True
    assert inputs["publicAccessPrevention"] == "enforced"
    assert inputs["retentionPolicy"] == {"retentionPeriod": str(365 * 86400)}
    assert "isLocked" not in inputs["retentionPolicy"]  # locking is irreversible: the owner's decision
    # Cloud Storage refuses versioning together with a retention policy: stated off, on purpose.
    assert inputs["versioning"] == {"enabled": False}
    assert inputs["forceDestroy"] is False
    assert inputs["labels"] == {
        "app": "model-registry-guard",
        "component": "nightly-audit",
        "environment": "prod",
        "owner": "ml-platform",
    }

    grants = sorted((g.inputs["bucket"], g.inputs["role"], g.inputs["member"]) for g in run.of_type(BUCKET_IAM_MEMBER))
    assert grants == [
        (REPORT_BUCKET, "roles/storage.objectCreator", AUDITOR),
        (REPORT_BUCKET, "roles/storage.objectViewer", AUDITOR),
    ]


def test_cloud_run_job_runs_the_scan_as_the_auditor(run_stack: RunStack) -> None:
    run = run_stack(audit(taskCount=1))

    (job,) = run.of_type(RUN_JOB)
    assert job.inputs["name"] == "registry-guard-audit"
    assert job.inputs["location"] == "us-central1"
    assert job.inputs["project"] == PROJECT
    assert job.inputs["deletionProtection"] is False
    template = job.inputs["template"]
    assert template["taskCount"] == 1
    task = template["template"]
    assert task["serviceAccount"] == AUDITOR.removeprefix("serviceAccount:")
    assert task["maxRetries"] == 0
    assert task["timeout"] == "3600s"

    spec = container(run)
    assert spec["image"] == IMAGE
    assert spec["commands"] == ["/bin/sh", "-c", WRAPPER_SCRIPT, "registry-guard-audit"]
    assert spec["args"] == [
        "scan", "--project", PROJECT, "--location", "us-central1", "--effective-access",
        "--history", f"gs://{REPORT_BUCKET}/history",
        "--format", "json", "--format", "sarif", "--format", "html",
        "--fail-on", "high",
    ]
    assert {e["name"]: e["value"] for e in spec["envs"]} == {
        "REPORT_BUCKET": REPORT_BUCKET,
        "REPORT_PREFIX": "reports",
        "REPORT_FORMATS": "json sarif html",
        "PYTHONUNBUFFERED": "1",
    }
    assert spec["resources"] == {"limits": {"cpu": "1", "memory": "1Gi"}}
    # No bucket mount: a FUSE rename is copy + delete, which the retention policy refuses.
    assert "volumeMounts" not in spec and "volumes" not in task


def test_scheduler_starts_the_job_with_its_own_invoker(run_stack: RunStack) -> None:
    run = run_stack(audit())

    (invoker_grant,) = run.of_type(RUN_JOB_IAM_MEMBER)
    assert invoker_grant.inputs == {
        "project": PROJECT,
        "location": "us-central1",
        "name": "registry-guard-audit",
        "role": "roles/run.invoker",
        "member": f"serviceAccount:{INVOKER_EMAIL}",
    }

    (scheduler,) = run.of_type(SCHEDULER_JOB)
    inputs = scheduler.inputs
    assert inputs["name"] == "registry-guard-audit-nightly"
    assert inputs["region"] == "us-central1"
    assert inputs["schedule"] == "0 3 * * *"
    assert inputs["timeZone"] == "Etc/UTC"
    assert inputs["httpTarget"] == {
        "httpMethod": "POST",
        "uri": f"https://run.googleapis.com/v2/projects/{PROJECT}/locations/us-central1/jobs/registry-guard-audit:run",
        "oauthToken": {
            "serviceAccountEmail": INVOKER_EMAIL,
            "scope": "https://www.googleapis.com/auth/cloud-platform",
        },
    }
    # The first scheduled run finds every grant in place.
    grant_urns = {r.urn for r in run.resources if r.type in (PROJECT_IAM_MEMBER, BUCKET_IAM_MEMBER, RUN_JOB_IAM_MEMBER)}
    assert grant_urns <= set(scheduler.dependencies)

    assert run.outputs["nightly_audit"] == {
        "job": "registry-guard-audit",
        "region": "us-central1",
        "schedule": "0 3 * * *",
        "time_zone": "Etc/UTC",
        "image": IMAGE,
        "auditor": AUDITOR.removeprefix("serviceAccount:"),
        "invoker": INVOKER_EMAIL,
        "custom_role": ROLE_NAME,
        "report_bucket": REPORT_BUCKET,
        "reports_url": f"gs://{REPORT_BUCKET}/reports/",
        "history_url": f"gs://{REPORT_BUCKET}/history/",
        "inputs": {},
        "run_now_command": f"gcloud run jobs execute registry-guard-audit --region us-central1 --project {PROJECT}",
    }


def test_config_values_reach_the_resources(run_stack: RunStack) -> None:
    run = run_stack(
        {
            "location": "europe-west4",
            **audit(
                schedule="30 1 * * MON-FRI",
                timeZone="Europe/Berlin",
                taskCount=3,
                retentionDays=730,
                reportBucket="ml-evidence-reports",
            ),
        }
    )
    (scheduler,) = run.of_type(SCHEDULER_JOB)
    assert (scheduler.inputs["schedule"], scheduler.inputs["timeZone"]) == ("30 1 * * MON-FRI", "Europe/Berlin")
    assert scheduler.inputs["region"] == "europe-west4"  # the repositories' location by default
    (job,) = run.of_type(RUN_JOB)
    assert job.inputs["location"] == "europe-west4"
    assert job.inputs["template"]["taskCount"] == 3
    assert "--history" in container(run)["args"]
    assert "gs://ml-evidence-reports/history" in container(run)["args"]
    (bucket,) = run.of_type(BUCKET)
    assert bucket.inputs["name"] == "ml-evidence-reports"
    assert bucket.inputs["location"] == "EUROPE-WEST4"
    assert bucket.inputs["retentionPolicy"] == {"retentionPeriod": str(730 * 86400)}
    assert not run.warnings  # every source is sharded across the tasks: nothing to warn about


@pytest.mark.parametrize(("location", "region"), [("us", "us-central1"), ("europe", "europe-west1"),
                                                  ("asia", "asia-east1")])
def test_multi_region_registry_gets_its_audit_in_a_region(run_stack: RunStack, location: str, region: str) -> None:
    run = run_stack({"location": location, **audit()})
    (job,) = run.of_type(RUN_JOB)
    assert job.inputs["location"] == region
    assert container(run)["args"][1:5] == ["--project", PROJECT, "--location", location]


def test_gcr_backend_grants_the_role_on_the_registry_bucket_only(run_stack: RunStack) -> None:
    run = run_stack({"backend": "gcr", "gcrLocation": "EU", **audit()})
    gcr_bucket = f"eu.artifacts.{PROJECT}.appspot.com"

    roles = {r.inputs["roleId"]: r.inputs["permissions"] for r in run.of_type(CUSTOM_ROLE)}
    assert roles == {"registryGuardAuditor": GCR_PERMISSIONS, "registryGuardAccessReader": ACCESS_PERMISSIONS}
    # The effective-access reads are project calls: their own role, granted at the project.
    (access,) = run.of_type(PROJECT_IAM_MEMBER)
    assert access.inputs == {"project": PROJECT, "role": ACCESS_ROLE_NAME, "member": AUDITOR}
    grants = sorted((g.inputs["bucket"], g.inputs["role"], g.inputs["member"]) for g in run.of_type(BUCKET_IAM_MEMBER))
    assert grants == [
        (gcr_bucket, ROLE_NAME, AUDITOR),
        (REPORT_BUCKET, "roles/storage.objectCreator", AUDITOR),
        (REPORT_BUCKET, "roles/storage.objectViewer", AUDITOR),
    ]
    args = container(run)["args"]
    assert args[:4] == ["scan", "--gcr-bucket", gcr_bucket, "--effective-access"]
    assert "--project" not in args
    (job,) = run.of_type(RUN_JOB)
    assert job.inputs["location"] == "europe-west1"


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"audit": json.dumps({"enabled": False, "image": IMAGE, "schedule": "0 4 * * *"})},
        {"audit": json.dumps({"enabled": "false"})},
        {"backend": "gcr", "audit": json.dumps({"enabled": False})},
    ],
    ids=["absent", "disabled", "disabled-string", "gcr-disabled"],
)
def test_without_enabled_nothing_of_the_audit_exists(run_stack: RunStack, config: dict[str, str]) -> None:
    run = run_stack(config)
    assert [r.type for r in run.resources if r.type in AUDIT_TYPES] == []
    assert [r for r in run.of_type(BUCKET_IAM_MEMBER) if "registry-guard" in r.name] == []
    assert "nightly_audit" not in run.outputs


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"enabled": True}, "model-registry:audit.image: required when the audit is enabled; "),
        ({"enabled": True, "image": "registry-guard:v0.1.0"},
         "model-registry:audit.image: 'registry-guard:v0.1.0' is not a full image reference"),
        ({"enabled": True, "image": "us-docker.pkg.dev/p/r/guard:latest"},
         "model-registry:audit.image: 'us-docker.pkg.dev/p/r/guard:latest' names no version"),
        ({"enabled": True, "image": "us-docker.pkg.dev/p/r/guard"},
         "model-registry:audit.image: 'us-docker.pkg.dev/p/r/guard' names no version"),
        ({"enabled": "yes"}, "model-registry:audit.enabled: expected true or false, got 'yes'"),
        ({"schedule": "0 3 * *"}, "model-registry:audit.schedule: '0 3 * *' is not a cron schedule; expected 5 fields"),
        ({"schedule": "0 24 * * *"}, "model-registry:audit.schedule: '0 24 * * *': hour field '24' is not valid"),
        ({"schedule": "0 3 * * FUN"},
         "model-registry:audit.schedule: '0 3 * * FUN': day of week field 'FUN' is not valid"),
        ({"schedule": "*/0 3 * * *"}, "model-registry:audit.schedule: '*/0 3 * * *': minute field '*/0' is not valid"),
        ({"timeZone": "Mars/Olympus"}, "model-registry:audit.timeZone: 'Mars/Olympus' is not a time zone"),
        ({"region": "us-central1-a"}, "model-registry:audit.region: 'us-central1-a' is not a region"),
        ({"region": "europe"}, "model-registry:audit.region: 'europe' is not a region"),
        ({"taskCount": 0}, "model-registry:audit.taskCount: expected a whole number from 1 to 100, got 0"),
        ({"retentionDays": 5000},
         "model-registry:audit.retentionDays: expected a whole number from 1 to 3650, got 5000"),
        ({"reportBucket": "Evidence"}, "model-registry:audit.reportBucket: 'Evidence' is not a usable bucket name"),
        ({"reportBucket": "google-reports"},
         "model-registry:audit.reportBucket: 'google-reports' is not a usable bucket name"),
        ({"scheduel": "0 3 * * *"}, "model-registry:audit.scheduel: unknown field; allowed: enabled, schedule, "),
    ],
)
def test_bad_audit_config_is_one_line_naming_the_key(
    stack_error: FailStack, fields: dict[str, Any], message: str
) -> None:
    got = stack_error({"audit": json.dumps(fields)})
    assert got.startswith(message), got


BUCKET_OBJECT = "gcp:storage/bucketObject:BucketObject"
WAIVERS = """waivers:
  - rule: no-public-access
    resource: "repository:*public-demo"
    justification: Public demo models, approved in SEC-1234
    owner: security@example.com
    expires: 2099-03-31
"""
SETTINGS = "allowedAdmins: [group:registry-admins@example.com]\n"


def _inputs(tmp_path: Path) -> dict[str, Path]:
    files = {"waivers": tmp_path / "waivers.yaml", "settings": tmp_path / "settings.yaml",
             "desiredState": tmp_path / "stack.json"}
    files["waivers"].write_text(WAIVERS)
    files["settings"].write_text(SETTINGS)
    files["desiredState"].write_text(json.dumps({"version": 3, "deployment": {"resources": []}}))
    return files


def test_waivers_settings_and_desired_state_reach_the_job(run_stack: RunStack, tmp_path: Path) -> None:
    files = _inputs(tmp_path)
    run = run_stack(audit(**{name: str(path) for name, path in files.items()}))
    objects = {o.inputs["name"]: o for o in run.of_type(BUCKET_OBJECT)}
    digests = {name: hashlib.sha256(path.read_bytes()).hexdigest()[:16] for name, path in files.items()}
    expected = {"waivers": f"inputs/waivers-{digests['waivers']}.yaml",
                "settings": f"inputs/settings-{digests['settings']}.yaml",
                "desiredState": f"inputs/desiredState-{digests['desiredState']}.json"}
    assert set(objects) == set(expected.values())
    for obj in objects.values():
        assert obj.inputs["bucket"] == REPORT_BUCKET
    envs = {e["name"]: e["value"] for e in container(run)["envs"]}
    assert (envs["WAIVERS_OBJECT"], envs["SETTINGS_OBJECT"], envs["DESIRED_OBJECT"]) == (
        expected["waivers"], expected["settings"], expected["desiredState"])
    # The first run must find the files: the scheduler waits for them.
    (scheduler,) = run.of_type(SCHEDULER_JOB)
    assert {o.urn for o in objects.values()} <= set(scheduler.dependencies)
    assert run.outputs["nightly_audit"]["inputs"] == {
        name: f"gs://{REPORT_BUCKET}/{key}" for name, key in expected.items()}


def test_a_changed_input_file_is_a_new_object(run_stack: RunStack, tmp_path: Path) -> None:
    files = _inputs(tmp_path)
    before = {o.inputs["name"] for o in run_stack(audit(waivers=str(files["waivers"]))).of_type(BUCKET_OBJECT)}
    files["waivers"].write_text(WAIVERS.replace("2099-03-31", "2099-06-30"))
    after = {o.inputs["name"] for o in run_stack(audit(waivers=str(files["waivers"]))).of_type(BUCKET_OBJECT)}
    assert len(before) == len(after) == 1 and before != after  # never a replacement of a retained object


@pytest.mark.parametrize(("name", "content", "message"), [
    ("waivers", "waivers:\n  - rule: no-such-rule\n", "model-registry:audit.waivers: "),
    ("settings", "allowedAdmins: 42\n", "model-registry:audit.settings: "),
    ("desiredState", "[]", "model-registry:audit.desiredState: "),
    ("waivers", None, "model-registry:audit.waivers: "),
])
def test_an_input_file_the_job_would_refuse_stops_the_preview(stack_error: FailStack, tmp_path: Path, name: str,
                                                              content: str | None, message: str) -> None:
    path = tmp_path / f"{name}.file"
    if content is not None:
        path.write_text(content)
    got = stack_error({"audit": json.dumps({"enabled": True, "image": IMAGE, name: str(path)})})
    assert got.startswith(message), got
    assert str(path) in got  # names the file
    if content is None:
        assert "is not a file" in got


def test_audit_must_be_an_object(stack_error: FailStack) -> None:
    assert stack_error({"audit": "true"}).startswith("model-registry:audit: expected an object {enabled, image")


def test_example_stack_config_documents_every_audit_field_and_works_when_enabled() -> None:
    example = REPO_ROOT / "Pulumi.example.yaml"
    raw = yaml.safe_load(example.read_text())["config"]
    block = raw["model-registry:audit"]
    text = example.read_text()
    from model_registry.config import AUDIT_KEYS

    for field in AUDIT_KEYS:
        assert re.search(rf"^\s*#?\s*{field}:", text, re.MULTILINE), f"audit.{field} undocumented"
    assert block["enabled"] is False  # the example stays a registry-only stack

    config = {
        key: value if isinstance(value, str) else json.dumps(value).lower() if isinstance(value, bool)
        else json.dumps(value) if isinstance(value, list | dict) else str(value)
        for key, value in raw.items()
    }
    config["model-registry:audit"] = json.dumps({**block, "enabled": True})
    run = run_stack_program(MAIN_PROGRAM, config, stack="example")
    (job,) = run.of_type(RUN_JOB)
    assert job.inputs["template"]["template"]["containers"][0]["image"] == block["image"]
    (scheduler,) = run.of_type(SCHEDULER_JOB)
    assert scheduler.inputs["schedule"] == block["schedule"]


def test_wrapper_script_is_valid_posix_shell(tmp_path: Path) -> None:
    import subprocess

    script = tmp_path / "wrapper.sh"
    script.write_text(WRAPPER_SCRIPT)
    proc = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
