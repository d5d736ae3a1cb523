"""Benchmark 6: effective access at organization scale (issue 13). An organization five folder levels deep,
200 projects, up to 1,000 Artifact Registry repositories, 100 custom roles and 5,000 principals in its IAM
policies (most grants outside the registry, as in a real organization), served by the local Artifact Registry,
Resource Manager, IAM and Cloud Asset stand-ins.

For each size the whole audit process runs twice, back to back on the same estate: discovering and scanning the
organization without effective access (the scan itself), then the same with `--effective-access`. The difference
in wall time and peak RSS is what effective access costs: reading the hierarchy, the roles and the service
accounts' policies, computing every principal's capabilities with their paths, and putting the access matrix
in the JSON report; the report's own timings say how much of it was reading and how much computing."""

from __future__ import annotations

import json
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdev.artifact_registry import ArtifactRegistryFake, FakeEstate, binding
from localdev.google_iam import GoogleIamFakes, IamEstate

from .common import audit_scan_argv, print_table, run_process, settings_file, verdict

TIME_GOAL_S = 10.0
MEMORY_GOAL_MB = 300.0
LOCATION = "us-central1"
ORG = "1"
# Permissions custom roles are drawn from: some the registry cares about, most it does not.
_REGISTRY_PERMISSIONS = ("artifactregistry.repositories.downloadArtifacts",
                         "artifactregistry.repositories.uploadArtifacts", "artifactregistry.tags.update",
                         "artifactregistry.versions.delete", "storage.objects.get", "iam.serviceAccounts.actAs")
_OTHER_PERMISSIONS = tuple(f"{service}.{noun}.{verb}" for service in ("compute", "logging", "bigquery", "pubsub")
                           for noun in ("instances", "topics", "datasets") for verb in ("get", "list", "create"))
_OTHER_ROLES = ("roles/logging.viewer", "roles/monitoring.viewer", "roles/bigquery.dataViewer",
                "roles/compute.viewer", "roles/pubsub.subscriber", "roles/cloudsql.client")
_REGISTRY_ROLES = ("roles/artifactregistry.reader", "roles/artifactregistry.writer", "roles/viewer",
                   "roles/artifactregistry.repoAdmin", "roles/editor")


@dataclass(frozen=True)
class Shape:
    repositories: int
    projects: int = 200
    custom_roles: int = 100
    principals: int = 5000
    levels: int = 5


def build(shape: Shape, seed: int = 6) -> tuple[IamEstate, FakeEstate, int]:
    """The organization, and the Artifact Registry estate of its repositories. Returns them and the number of
    distinct principals the policies name."""
    rng = random.Random(seed)
    iam, ar = IamEstate(), FakeEstate()
    org = iam.add_organization(ORG)
    # Five levels: two folders under the organization, each splitting in two down to level four, one more below.
    level = [org]
    number = 10
    for depth in range(shape.levels):
        children = []
        for parent in level:
            for _ in range(1 if depth == shape.levels - 1 else 2):
                number += 1
                children.append(iam.add_folder(str(number), parent))
        level = children
    projects = [f"bench-p{i:03d}" for i in range(shape.projects)]
    for i, project in enumerate(projects):
        iam.add_project(project, level[i % len(level)], number=str(300_000_000_000 + i))
    roles = [iam.add_custom_role(f"organizations/{ORG}", f"custom{i:03d}",
                                 rng.sample(_OTHER_PERMISSIONS, 4) + (rng.sample(_REGISTRY_PERMISSIONS, 1)
                                                                      if i % 4 == 0 else []))
             for i in range(shape.custom_roles)]
    pool = [f"user:u{i:04d}@example.com" if i % 4 else f"group:g{i:04d}@example.com"
            for i in range(shape.principals - shape.projects)]
    accounts = [iam.add_service_account(p, "ci") for p in projects]
    pool += [f"serviceAccount:{a}" for a in accounts]
    rng.shuffle(pool)
    cursor = 0

    def members(count: int) -> list[str]:
        nonlocal cursor
        out = [pool[(cursor + k) % len(pool)] for k in range(count)]
        cursor += count
        return out

    def bindings(count: int, registry_share: float) -> list[dict[str, Any]]:
        out = []
        for _ in range(count):
            pick = rng.random()
            role = (rng.choice(_REGISTRY_ROLES) if pick < registry_share
                    else rng.choice(roles) if pick < registry_share + 0.2 else rng.choice(_OTHER_ROLES))
            out.append(binding(role, members(rng.randint(1, 4))))
        return out

    iam.set_policy(org, bindings(8, 0.1))
    for folder in iam.all_nodes():
        if folder.startswith("folders/"):
            iam.set_policy(folder, bindings(3, 0.1))
    for project, account in zip(projects, accounts, strict=True):
        iam.set_policy(f"projects/{project}", bindings(8, 0.15))
        iam.set_policy(f"projects/{project}/serviceAccounts/{account}",
                       [binding("roles/iam.serviceAccountTokenCreator", members(2))])
    for r in range(shape.repositories):
        project = projects[r % len(projects)]
        name = ar.add_repository(project, LOCATION, f"models-{r:04d}", immutable_tags=True)
        repo_bindings = [binding("roles/artifactregistry.writer", [f"serviceAccount:{accounts[r % len(projects)]}"]),
                         *bindings(2, 0.5)]
        ar.set_iam_policy(name, repo_bindings)
        iam.add_repository(project, LOCATION, f"models-{r:04d}")
    # Every principal of the pool is named somewhere (the rest on the organization as log viewers).
    if cursor < len(pool):
        node = iam.node(org)
        existing = node.policy["bindings"] if node is not None and node.policy is not None else []
        iam.set_policy(org, [*existing, binding("roles/logging.viewer", pool[cursor:])])
    return iam, ar, len(pool)


def _compute_only(report: dict[str, Any]) -> float:
    return float(report["timings"].get("effective_access_compute", 0.0))


def run(sizes: list[int], *, out: Path, quick: bool) -> dict[str, Any]:
    rows, points = [], []
    with tempfile.TemporaryDirectory(prefix="bench6-") as tmp:
        tmpdir = Path(tmp)
        settings = settings_file(tmpdir)
        for n in sizes:
            shape = Shape(n) if not quick else Shape(n, projects=40, custom_roles=20, principals=1000)
            started = time.perf_counter()
            iam, ar_estate, principals = build(shape)
            seeded = time.perf_counter() - started
            with ArtifactRegistryFake(ar_estate) as ar, GoogleIamFakes(iam) as google:
                common = ["--organization", ORG, "--location", LOCATION, "--artifact-registry-endpoint", ar.endpoint,
                          "--asset-endpoint", google.asset.endpoint,
                          "--resource-manager-endpoint", google.resource_manager.endpoint,
                          "--iam-endpoint", google.iam.endpoint, "--timeout", "30"]
                without = run_process(audit_scan_argv(common, tmpdir / f"without-{n}", settings), ok_codes=(0, 1))
                with_ = run_process(audit_scan_argv([*common, "--effective-access"], tmpdir / f"with-{n}", settings),
                                    ok_codes=(0, 1))
            report = json.loads((tmpdir / f"with-{n}" / "registry-guard-scan.json").read_text())
            plain = json.loads((tmpdir / f"without-{n}" / "registry-guard-scan.json").read_text())
            if not report["complete"] or len(report["access"]["resources"]) != n:
                raise RuntimeError(f"{n} repositories: report incomplete or missing repositories: "
                                   f"{report['errors'][:3]}")
            accesses = sum(len(p["capabilities"]) for r in report["access"]["resources"] for p in r["principals"])
            size_mb = (tmpdir / f"with-{n}" / "registry-guard-scan.json").stat().st_size / 1e6
            delta_s, delta_mb = with_.wall - without.wall, with_.peak_rss_mb - without.peak_rss_mb
            point = {"repositories": n, "projects": shape.projects, "custom_roles": shape.custom_roles,
                     "principals": principals, "seed_s": round(seeded, 2),
                     "scan_s": round(without.wall, 2), "scan_rss_mb": round(without.peak_rss_mb),
                     "with_s": round(with_.wall, 2), "with_rss_mb": round(with_.peak_rss_mb),
                     "delta_s": round(delta_s, 2), "delta_mb": round(delta_mb),
                     "read_s": round(report["timings"].get("effective_access", 0.0), 2),
                     "compute_s": round(_compute_only(report), 3), "capabilities_granted": accesses,
                     "report_mb": round(size_mb, 1), "plain_findings": plain["summary"]["total"],
                     "findings": report["summary"]["total"]}
            points.append(point)
            print(f"  {n} repositories: scan {without.wall:.1f} s / {without.peak_rss_mb:.0f} MB; with effective "
                  f"access {with_.wall:.1f} s / {with_.peak_rss_mb:.0f} MB (+{delta_s:.1f} s, +{delta_mb:.0f} MB; "
                  f"reading {point['read_s']} s, computing {point['compute_s']} s; {accesses} capabilities)",
                  flush=True)
            rows.append([n, f"{without.wall:.1f} s / {without.peak_rss_mb:.0f} MB",
                         f"{with_.wall:.1f} s / {with_.peak_rss_mb:.0f} MB",
                         f"+{delta_s:.1f} s, +{delta_mb:.0f} MB", point["read_s"], point["compute_s"], accesses,
                         point["report_mb"]])
    largest = points[-1]
    met = largest["delta_s"] < TIME_GOAL_S and largest["delta_mb"] < MEMORY_GOAL_MB
    table = print_table(
        f"6. Effective access, organization of {largest['projects']} projects, {largest['custom_roles']} custom "
        f"roles, {largest['principals']} principals: {verdict(met)} (goal: under {TIME_GOAL_S:.0f} s and "
        f"{MEMORY_GOAL_MB:.0f} MB above the scan, at {largest['repositories']} repositories)",
        rows, ["repositories", "scan alone", "scan + effective access", "effective access costs",
               "reading (s)", "computing (s)", "capabilities granted", "JSON report (MB)"])
    return {"points": points, "goal_met": met, "table": table}
