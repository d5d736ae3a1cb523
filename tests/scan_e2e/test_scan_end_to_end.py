"""`python -m audit scan` against the seeded local estate: every seeded problem found, nothing more."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scan_support import Estate, run_audit

from audit.cli import main
from localdev import demo_estate
from localdev.oci_push import push_image

RISKY_REPO = f"projects/{demo_estate.PROJECT}/locations/{demo_estate.LOCATION}/repositories/models-risky"
HARDENED_REPO = RISKY_REPO.replace("models-risky", "models-hardened")


def _pairs(document: dict) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["resource"]) for f in document["findings"]}


def test_seeded_estate_every_problem_found(estate: Estate, tmp_path: Path) -> None:
    rc, doc = run_audit(estate.scan_args(tmp_path), tmp_path)
    assert rc == 1  # high and critical findings, --fail-on high
    assert doc["complete"] is True and doc["summary"]["status"] == "non-compliant"
    found = _pairs(doc)
    risky_bucket = f"bucket:{estate.risky_bucket}"
    repo = f"repository:{RISKY_REPO}"
    expected = {
        ("no-public-access", risky_bucket),  # allUsers in IAM and in the ACL
        ("no-broad-admin", risky_bucket),  # the user's original example: storage.admin to a user
        ("bucket-hardening", risky_bucket),
        ("legacy-gcr", f"container-registry:gcr.io/{demo_estate.PROJECT}"),
        ("no-public-access", repo),  # conditional allUsers binding: still public
        ("no-broad-admin", repo),
        ("no-personal-writers", repo),
        ("immutable-tags", repo),
        ("vulnerability-scanning", repo),
        ("cleanup-keeps-versions", repo),
        ("customer-managed-encryption", repo),
        ("required-labels", repo),
    }
    assert expected <= found, expected - found
    public = [f for f in doc["findings"] if f["rule_id"] == "no-public-access" and f["resource"] == risky_bucket]
    assert {f["evidence"]["shape"] for f in public} == {"iam-policy", "bucket-acl"}
    conditional = [f for f in doc["findings"] if f["rule_id"] == "no-public-access" and f["resource"] == repo]
    assert conditional[0]["evidence"]["condition"].startswith("request.time")

    # version-tag-required: exactly the image tagged only latest and the one tagged only dev (OCI),
    # plus the AR image tagged only latest; v2.1.0-rc.1 and 1.0.0 are versions.
    untagged = sorted(f["evidence"]["tags"][0] + "@" + f["evidence"]["package"]
                      for f in doc["findings"] if f["rule_id"] == "version-tag-required")
    assert untagged == ["dev@models/vision", "latest@llm", "latest@models/llm"]

    # The cleanup simulation names the released version it would delete (v0.9.0 is 200 days old;
    # v1.0.0 is 10 days old and safe from a 30-day policy).
    doomed = [f["evidence"]["versions"] for f in doc["findings"]
              if f["rule_id"] == "cleanup-keeps-versions" and f["resource"].startswith("image:")]
    assert doomed == [["v0.9.0"]]

    # Hardened resources: nothing at all.
    hardened = {r for _, r in found if HARDENED_REPO in r or estate.hardened_bucket in r}
    assert hardened == set()
    # ...except that a Container Registry, hardened or not, is shut down.
    assert ("legacy-gcr", f"container-registry:eu.gcr.io/{demo_estate.PROJECT}") in found

    inventory = doc["inventory"]
    assert inventory["images"] == 7 + 5  # 7 OCI manifests (latest shares v1.1.0's) + 5 AR images
    every_finding_has = {"rule_id", "severity", "resource", "message", "remediation", "frameworks", "evidence"}
    assert all(every_finding_has <= set(f) for f in doc["findings"])


def test_history_moved_and_deleted_versions(estate: Estate, tmp_path: Path) -> None:
    history = tmp_path / "history"
    rc, first = run_audit(estate.scan_args(tmp_path / "1", "--history", str(history)), tmp_path / "1")
    assert rc == 1
    assert not {f["rule_id"] for f in first["findings"]} & {"version-tag-moved", "version-deleted"}

    # No change between scans: no history findings either.
    _, same = run_audit(estate.scan_args(tmp_path / "2", "--history", str(history)), tmp_path / "2")
    assert not {f["rule_id"] for f in same["findings"]} & {"version-tag-moved", "version-deleted"}
    assert same["history"]["previous_snapshot"]

    demo_estate.tamper_oci(estate.registry.url, estate.seeded)
    _, third = run_audit(estate.scan_args(tmp_path / "3", "--history", str(history)), tmp_path / "3")
    host = estate.registry.host
    moved = [f for f in third["findings"] if f["rule_id"] == "version-tag-moved"]
    deleted = [f for f in third["findings"] if f["rule_id"] == "version-deleted"]
    assert [(f["evidence"]["package"], f["evidence"]["tag"]) for f in moved] == [("models/sentiment", "v1.0.0")]
    assert moved[0]["evidence"]["recorded_digest"] == estate.seeded.digests[("models/sentiment", "v1.0.0")]
    assert moved[0]["severity"] == "critical" and moved[0]["resource"] == f"image:{host}/models/sentiment:v1.0.0"
    assert [(f["evidence"]["package"], f["evidence"]["tag"]) for f in deleted] == [("models/llm", "v2.0.0")]
    assert len(list((history / "snapshots").glob("*.json"))) == 3


def test_unreachable_registry_is_incomplete_never_compliant(tmp_path: Path) -> None:
    # Port 9 on loopback: nothing listens, every request is refused.
    rc = main(["scan", "--registry", "http://127.0.0.1:9", "--output", str(tmp_path), "--quiet",
               "--timeout", "1"])
    import json

    doc = json.loads((tmp_path / "registry-guard-scan.json").read_text())
    assert rc == 3
    assert doc["complete"] is False and doc["summary"]["status"] == "incomplete"
    assert doc["errors"] and doc["errors"][0]["target"].endswith("/_catalog")


def test_unread_repository_is_not_reported_deleted(estate: Estate, tmp_path: Path) -> None:
    """A repository the current scan could not read keeps its recorded versions (carried forward)."""
    history = tmp_path / "history"
    run_audit(estate.scan_args(tmp_path / "1", "--history", str(history)), tmp_path / "1")
    estate.ar.estate.deny(RISKY_REPO)  # every call on it now answers 403
    rc, doc = run_audit(estate.scan_args(tmp_path / "2", "--history", str(history)), tmp_path / "2")
    assert rc == 3 and doc["complete"] is False
    assert any(RISKY_REPO in e["target"] for e in doc["errors"])
    assert not [f for f in doc["findings"] if f["rule_id"] == "version-deleted"]


def test_allowed_admins_setting_is_honoured(estate: Estate, tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("allowedAdmins: ['group:registry-admins@example.com']\nrequiredLabels: [owner]\n")
    _, doc = run_audit(estate.scan_args(tmp_path, "--config", str(config)), tmp_path)
    assert "required-labels" not in {f["rule_id"] for f in doc["findings"]}
    # user: admins are never allowed, allow-list or not
    assert any(f["rule_id"] == "no-broad-admin" for f in doc["findings"])


def test_report_subcommand_rerenders_saved_report(estate: Estate, tmp_path: Path) -> None:
    _, doc = run_audit(estate.scan_args(tmp_path / "scan"), tmp_path / "scan")
    rc = main(["report", str(tmp_path / "scan" / "registry-guard-scan.json"), "--output", str(tmp_path / "again")])
    _, again = 0, __import__("json").loads((tmp_path / "again" / "registry-guard-scan.json").read_text())
    assert rc == 1
    assert again["findings"] == doc["findings"]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("allowedAdmins: [unclosed\n")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("allowedAdmin: []\n")
    bad_admin = tmp_path / "admin.json"
    bad_admin.write_text('{"allowedAdmins": ["user:me@example.com"]}')
    cases = [
        (["scan", "--registry", "http://registry.example.com"], "only https is allowed"),
        (["scan", "--registry", "http://127.0.0.1:9", "--config", str(bad_yaml)], "not valid YAML"),
        (["scan", "--registry", "http://127.0.0.1:9", "--config", str(unknown)], "allowedAdmin: unknown setting"),
        (["scan", "--registry", "http://127.0.0.1:9", "--config", str(bad_admin)], "allowedAdmins"),
        (["scan", "--project", "p"], "--project and --location go together"),
        (["scan"], "nothing to scan"),
        (["scan", "--registry", "http://127.0.0.1:9", "--shard", "3/2"], "--shard"),
        (["report", str(bad_yaml)], "not a valid report"),
    ]
    for args, needle in cases:
        proc = subprocess.run([sys.executable, "-m", "audit", *args, "--output", str(tmp_path / "out")],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert needle in lines[0], (needle, lines[0])


def test_scan_is_read_only_towards_artifact_registry(estate: Estate, tmp_path: Path) -> None:
    from localdev.artifact_registry import iter_read_only_violations

    estate.ar.clear_requests()
    run_audit(estate.scan_args(tmp_path), tmp_path)
    assert estate.ar.requests  # the scan did talk to it
    assert list(iter_read_only_violations(estate.ar.requests)) == []


def test_version_pushed_between_scans_appears_in_inventory(estate: Estate, tmp_path: Path) -> None:
    digest = push_image(estate.registry.url, "models/sentiment", ["v1.2.0"], content_seed="sentiment-1.2.0")
    _, doc = run_audit(estate.scan_args(tmp_path), tmp_path)
    images = [i for r in doc["inventory"]["repositories"] for i in r["images"]]
    assert {"digest": digest, "tags": ["v1.2.0"]}.items() <= next(i for i in images if i["digest"] == digest).items()
