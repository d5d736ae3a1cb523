"""`--desired`: the live estate compared with a `pulumi stack export` of the project's own stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scan_support import Estate, run_audit

from audit.sources.stack_export import StackExportError, load_stack_export, parse_stack_export
from audit.sources.stack_program import run_stack_program
from localdev import demo_estate
from localdev.stack_export import stack_export_document

ROOT = Path(__file__).resolve().parents[2]
RISKY = f"projects/{demo_estate.PROJECT}/locations/{demo_estate.LOCATION}/repositories/models-risky"


def _export(tmp_path: Path) -> Path:
    run = run_stack_program(ROOT / "__main__.py", {
        "gcp:project": demo_estate.PROJECT,
        "model-registry:location": demo_estate.LOCATION,
        "model-registry:repositories": json.dumps(["models-risky"]),
        "model-registry:owner": "ml-research",
        "model-registry:readers": json.dumps(["group:ml-readers@example.com"]),
    })
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(stack_export_document(run, demo_estate.PROJECT)))
    return path


def test_live_extra_member_is_iam_drift(estate: Estate, tmp_path: Path) -> None:
    export = _export(tmp_path)
    _, doc = run_audit(estate.scan_args(tmp_path, "--desired", str(export)), tmp_path)
    drift = [f for f in doc["findings"] if f["rule_id"] == "iam-drift"]
    added = {(f["evidence"]["member"], f["evidence"]["role"]) for f in drift if f["evidence"]["change"] == "added"}
    removed = {(f["evidence"]["member"], f["evidence"]["role"]) for f in drift
               if f["evidence"]["change"] == "removed"}
    assert ("allUsers", "roles/artifactregistry.reader") in added
    assert ("user:bob@gmail.com", "roles/artifactregistry.writer") in added
    assert removed == {("group:ml-readers@example.com", "roles/artifactregistry.reader")}
    assert all(f["resource"] == f"repository:{RISKY}" for f in drift)
    # The repository's IAM is declared in the component; the export carries the SDK's source position.
    assert {f["source_location"].split("#")[0] for f in drift} == {"model_registry/component.py"}

    # Live findings about declared resources point at the declaring line too (SARIF locations).
    immutable = next(f for f in doc["findings"] if f["rule_id"] == "immutable-tags")
    assert immutable["source_location"].startswith("model_registry/component.py#")

    config = {f["evidence"]["setting"]: f["evidence"] for f in doc["findings"] if f["rule_id"] == "config-drift"}
    assert config["immutableTags"]["declared"] is True and config["immutableTags"]["live"] is False
    assert config["vulnerabilityScanning"]["live"] == "DISABLED"
    assert "cleanupPolicies" in config


def test_stack_export_matches_its_own_declared_state(tmp_path: Path) -> None:
    declared = load_stack_export(_export(tmp_path))
    [repo] = declared.state.repositories
    assert repo.ref.name == RISKY and repo.immutable_tags is True
    assert {(g.role, g.member) for g in declared.state.grants} == {
        ("roles/artifactregistry.reader", "group:ml-readers@example.com")}


@pytest.mark.parametrize(("document", "needle"), [
    ({"version": 2, "deployment": {}}, "version 2 is not supported"),
    ([], "not a `pulumi stack export` document"),
    ({"version": 3, "deployment": {"resources": {}}}, "deployment.resources is not a list"),
    ({"version": 3, "deployment": {"resources": [{"type": 1}]}}, "lacks a type or urn"),
])
def test_bad_stack_export_names_the_problem(document: object, needle: str) -> None:
    with pytest.raises(StackExportError, match=needle):
        parse_stack_export(document, "stack.json")


def test_secret_values_are_unknown_not_guessed() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "abc"}
    doc = {"version": 3, "deployment": {"resources": [{
        "urn": "urn:pulumi:dev::p::gcp:artifactregistry/repositoryIamMember:RepositoryIamMember::m",
        "type": "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", "custom": True,
        "inputs": {"project": "p", "location": "l", "repository": "r", "role": "roles/artifactregistry.reader",
                   "member": secret}}]}}
    [grant] = parse_stack_export(doc).state.grants
    from registry_guard.catalogue.model import is_unknown

    assert is_unknown(grant.member)


def _gcr_export(tmp_path: Path) -> Path:
    run = run_stack_program(ROOT / "__main__.py", {
        "gcp:project": demo_estate.PROJECT,
        "model-registry:backend": "gcr",
        "model-registry:readers": json.dumps(["group:ml-readers@example.com"]),
    })
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(stack_export_document(run, demo_estate.PROJECT)))
    return path


def test_bucket_iam_drift_is_found_from_the_provider_read_back_form(estate: Estate, tmp_path: Path) -> None:
    export = _gcr_export(tmp_path)
    # The export holds what the provider writes after `pulumi up`: the bucket IAM resource's `bucket` is b/NAME.
    [member] = [r for r in json.loads(export.read_text())["deployment"]["resources"]
                if r["type"] == "gcp:storage/bucketIAMMember:BucketIAMMember"]
    assert member["outputs"]["bucket"] == f"b/{estate.risky_bucket}" != member["inputs"]["bucket"]
    _, doc = run_audit(estate.scan_args(tmp_path, "--desired", str(export)), tmp_path)
    drift = {(f["evidence"]["change"], f["evidence"]["member"], f["evidence"]["role"]) for f in doc["findings"]
             if f["rule_id"] == "iam-drift" and f["resource"] == f"bucket:{estate.risky_bucket}"}
    assert ("added", "allUsers", "roles/storage.objectViewer") in drift
    assert ("removed", "group:ml-readers@example.com", "roles/storage.objectViewer") in drift


def test_a_declared_target_the_scan_did_not_read_is_undetermined(estate: Estate, tmp_path: Path) -> None:
    export = _gcr_export(tmp_path)
    args = ["scan", "--registry", estate.registry.url, "--gcr-bucket", estate.hardened_bucket, "--quiet",
            "--desired", str(export), "--output", str(tmp_path)]  # the declared bucket is not scanned
    _, doc = run_audit(args, tmp_path)
    assert not [f for f in doc["findings"] if f["rule_id"] == "iam-drift"]
    undetermined = {(u["rule_id"], u["resource"]) for u in doc["undetermined"]}
    assert ("iam-drift", f"bucket:{estate.risky_bucket}") in undetermined
    assert doc["summary"]["undetermined"] >= 1
