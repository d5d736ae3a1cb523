"""Read-only proof: a full scan of the seeded estate, with every byte to the registry, the
Artifact Registry stand-in and the GCS emulator passing through recording proxies, sends only
GET and HEAD. The only files the audit writes are its own reports and history snapshots."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from reliability_support import audit_env, run_cli

from localdev import demo_estate
from localdev.artifact_registry import ArtifactRegistryFake, iter_read_only_violations
from localdev.fault_proxy import FaultProxy
from localdev.gcs_emulator import GcsEmulator
from localdev.oci_registry import LocalRegistry

READ_METHODS = {"GET", "HEAD"}


def _files(root: Path) -> set[Path]:
    return {Path(dirpath, name).relative_to(root) for dirpath, _, names in os.walk(root) for name in names}


def test_full_scan_sends_only_reads(tmp_path: Path) -> None:
    with LocalRegistry() as registry, GcsEmulator(project=demo_estate.PROJECT) as gcs, \
            ArtifactRegistryFake() as ar:
        # Seeding writes (PUT/POST/PATCH) go straight to the components, not through the proxies.
        demo_estate.seed_oci(registry.url)
        risky, hardened = demo_estate.seed_gcs(gcs)
        demo_estate.seed_artifact_registry(ar.estate)
        ar.clear_requests()
        with FaultProxy(registry.url) as oci_proxy, FaultProxy(ar.endpoint) as ar_proxy, \
                FaultProxy(gcs.url) as gcs_proxy:
            workdir = tmp_path / "cwd"
            workdir.mkdir()
            args = ["scan", "--project", demo_estate.PROJECT, "--location", demo_estate.LOCATION,
                    "--artifact-registry-endpoint", ar_proxy.url, "--gcr-bucket", risky, "--gcr-bucket", hardened,
                    "--registry", oci_proxy.url, "--history", str(workdir / "history"), "--timeout", "5"]
            env = audit_env({"STORAGE_EMULATOR_HOST": gcs_proxy.url})
            runs = [run_cli(args, workdir / "reports" / str(i), env=env, cwd=workdir) for i in (1, 2)]

            for run in runs:
                run.assert_clean_exit()
                assert run.rc == 1, (run.stdout, run.stderr)
                assert run.report["complete"] is True, run.report["errors"]
                assert run.report["summary"]["total"] >= 12
            for name, proxy in (("oci", oci_proxy), ("artifact-registry", ar_proxy), ("gcs", gcs_proxy)):
                methods = Counter(r.method for r in proxy.requests)
                assert methods, f"{name}: the scan never went through the proxy"
                writes = [(r.method, r.path) for r in proxy.requests if r.method not in READ_METHODS]
                assert writes == [], f"{name}: the audit sent write requests: {writes[:10]}"
            # The stand-in's own record agrees: only its four read calls, all GETs.
            assert list(iter_read_only_violations(ar.requests)) == []
            # Every part of the estate was actually read through the proxies.
            assert any("/tags/list" in r.path for r in oci_proxy.requests)
            assert any(r.method == "HEAD" and "/manifests/" in r.path for r in oci_proxy.requests)
            assert any(":getIamPolicy" in r.path for r in ar_proxy.requests)
            assert any("/dockerImages" in r.path for r in ar_proxy.requests)
            assert {r.route for r in gcs_proxy.requests} >= {f"/storage/v1/b/{risky}/iam", f"/storage/v1/b/{risky}/acl"}

    # Local writes: only the reports asked for and the history snapshots (one per scan).
    written = _files(workdir)
    assert all(p.parts[0] in ("reports", "history") for p in written), written
    snapshots = [p for p in written if p.parts[0] == "history"]
    assert len(snapshots) == 2 and all(p.suffix == ".json" and p.parent.name == "snapshots" for p in snapshots)
    assert {p for p in written if p.parts[0] == "reports"} == {
        Path("reports", str(i), name) for i in (1, 2)
        for name in ("registry-guard-scan.json", "registry-guard-scan.sha256")}  # the report and its manifest
