"""Waivers (accepted risks) and the trend against the previous scan."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from registry_guard.catalogue.settings import SettingsError
from scan_support import Estate, run_audit

from audit.cli import main
from audit.report import ReportFinding, Waiver
from audit.waivers import WaiverError, apply_waivers, load_waivers
from localdev import demo_estate


def _finding(rule: str, resource: str) -> ReportFinding:
    return ReportFinding(rule, "t", "high", resource, "m", ("fix",), (), {})


def test_waiver_matching_expiry_and_unused() -> None:
    waivers = (
        Waiver("no-public-access", "bucket:artifacts.*", "public mirror for a partner", "sec@example.com",
               "2030-01-01"),
        Waiver("immutable-tags", "repository:*", "migration in progress", "ml@example.com", "2020-01-01"),
        Waiver("legacy-gcr", "container-registry:*", "nothing matches this", "ml@example.com", "2030-01-01"),
    )
    findings = (_finding("no-public-access", "bucket:artifacts.p.appspot.com"),
                _finding("no-public-access", "repository:projects/p/locations/l/repositories/r"),
                _finding("immutable-tags", "repository:projects/p/locations/l/repositories/r"))
    out, statuses = apply_waivers(findings, waivers, date(2026, 11, 25))
    assert [f.waived for f in out] == [True, False, False]  # the expired waiver waives nothing
    assert out[0].waiver is not None and out[0].waiver.justification == "public mirror for a partner"
    assert [(w.status, w.matched) for w in statuses] == [("active", 1), ("expired", 0), ("unused", 0)]


@pytest.mark.parametrize(("text", "needle"), [
    ("waivers:\n  - rule: no-public-access\n    resource: '*'\n    owner: me\n    expires: 2030-01-01\n",
     "waivers[0]: `justification` is required"),
    ("waivers:\n  - rule: no-public-access\n    resource: '*'\n    owner: me\n    justification: ok\n",
     "waivers[0]: `expires` is required"),
    ("waivers:\n  - {rule: nope, resource: '*', owner: me, justification: j, expires: 2030-01-01}\n",
     "unknown rule 'nope'"),
    ("waivers:\n  - {rule: no-public-access, resource: '*', owner: me, justification: j, expires: soon}\n",
     "`expires` must be a date"),
    ("waivers: {}\n", "expected a top-level `waivers:` list"),
    ("waivers: [\n", "not valid YAML"),
    ("waivers:\n  - {rule: no-public-access, resource: '*', owner: me, justification: j, expires: 2030-01-01,"
     " scope: all}\n", "unknown key(s) scope"),
])
def test_malformed_waiver_file_names_the_entry(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    with pytest.raises(WaiverError) as info:
        load_waivers(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_waived_findings_stay_in_report_and_stop_failing(estate: Estate, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    # Waive every critical and high finding on the seeded estate except nothing else: exit code 0.
    rules = ["no-public-access", "no-broad-admin", "bucket-hardening", "immutable-tags", "cleanup-keeps-versions",
             "version-tag-required"]
    waivers.write_text("waivers:\n" + "".join(
        f"  - {{rule: {r}, resource: '*', owner: sec@example.com, justification: 'accepted for the demo',"
        f" expires: 2099-12-31}}\n" for r in rules) + "  - {rule: iam-drift, resource: '*', owner: a@b.c,"
        " justification: 'never matches', expires: 2099-12-31}\n")
    rc, doc = run_audit(estate.scan_args(tmp_path, "--waivers", str(waivers)), tmp_path)
    assert rc == 0
    assert doc["summary"]["status"] == "non-compliant"  # medium findings remain, unwaived
    waived = [f for f in doc["findings"] if f["waived"]]
    assert waived and all(f["waiver"]["justification"] == "accepted for the demo" for f in waived)
    assert {w["rule_id"]: w["status"] for w in doc["waivers"]}["iam-drift"] == "unused"
    assert main(estate.scan_args(tmp_path / "x", "--waivers", str(tmp_path / "missing.yaml"))) == 2


def test_trend_new_still_open_resolved(estate: Estate, tmp_path: Path) -> None:
    history = tmp_path / "history"
    run_audit(estate.scan_args(tmp_path / "1", "--history", str(history)), tmp_path / "1")
    # Fix one problem (the risky bucket's public ACL goes away) and create a new one.
    bucket = estate.gcs.client().bucket(estate.risky_bucket)
    bucket.acl.reload()
    bucket.acl.all().revoke_read()
    bucket.acl.save()
    from localdev.oci_push import push_image

    push_image(estate.registry.url, "models/vision", ["nightly"], content_seed="vision-nightly")
    _, doc = run_audit(estate.scan_args(tmp_path / "2", "--history", str(history)), tmp_path / "2")
    trend = doc["summary"]["trend"]
    assert trend["new"] == 1 and trend["resolved"] == 1 and trend["still_open"] == len(doc["findings"]) - 1
    [new] = [f for f in doc["findings"] if f["trend"] == "new"]
    assert new["rule_id"] == "version-tag-required" and new["evidence"]["tags"] == ["nightly"]
    [resolved] = doc["resolved"]
    assert resolved["rule_id"] == "no-public-access" and resolved["evidence"]["shape"] == "bucket-acl"
    assert demo_estate.PROJECT in resolved["resource"]


def test_a_pack_config_carries_the_same_waivers_to_the_audit(tmp_path: Path) -> None:
    """One file for both tools: the waivers a --policy-pack-config gives a policy are the audit's too."""
    from audit.settings_file import config_waivers, load_settings

    pack_config = tmp_path / "pack.json"
    pack_config.write_text(
        '{"no-public-access": {"enforcementLevel": "mandatory", "waivers": [{"resource": "bucket:artifacts.*", '
        '"justification": "partner mirror", "owner": "sec@example.com", "expires": "2030-01-01"}]},'
        ' "no-broad-admin": {"allowedAdmins": ["group:admins@example.com"]}}')
    assert load_settings(pack_config).allowed_admins == ("group:admins@example.com",)
    (waiver,) = config_waivers(pack_config)
    assert waiver == Waiver("no-public-access", "bucket:artifacts.*", "partner mirror", "sec@example.com",
                            "2030-01-01")
    out, _ = apply_waivers((_finding("no-public-access", "bucket:artifacts.p.appspot.com"),), (waiver,),
                           date(2026, 11, 25))
    assert out[0].waived
    pack_config.write_text('{"no-public-access": {"waivers": [{"resource": "x"}]}}')
    with pytest.raises(SettingsError, match=r"no-public-access\.waivers"):
        load_settings(pack_config)
