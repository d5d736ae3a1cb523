"""Benchmark 5: 5,000 resources through the real policy pack process over gRPC, in the engine's
order (Remediate then Analyze per resource, AnalyzeStack once), with `PolicyPackClient`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from audit.offline_check.analyzer import PolicyPackClient, Resource

from .common import ROOT, median, print_table, verdict

PACK_DIR = ROOT / "policy-pack"
TOTAL_GOAL_S, START_GOAL_S = 10.0, 2.0
PARALLEL = 8  # resources in flight, as the engine's parallel step executor keeps them
REPO = "gcp:artifactregistry/repository:Repository"
AR_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
BUCKET = "gcp:storage/bucket:Bucket"
B_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"


def resources(count: int) -> list[Resource]:
    """A model-registry estate: repositories with cleanup policies, their IAM members, GCR-style
    buckets and bucket members; a few deliberately bad (public reader, mutable tags, admin role)."""
    out: list[Resource] = []
    for i in range(count):
        kind = i % 4
        name = f"r{i:05d}"
        repo_id = f"models-{i // 4:04d}"
        if kind == 0:
            props: dict[str, Any] = {
                "repositoryId": repo_id, "location": "europe-west4", "project": "ml-prod", "format": "DOCKER",
                "dockerConfig": {"immutableTags": i % 40 != 0},
                "kmsKeyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k",
                "labels": {"owner": "ml-platform", "model": repo_id, "cost-center": "ml"},
                "cleanupPolicies": [
                    {"id": "drop-untagged", "action": "DELETE",
                     "condition": {"tagState": "UNTAGGED", "olderThan": "1209600s"}},
                    {"id": "keep-v", "action": "KEEP", "condition": {"tagState": "TAGGED", "tagPrefixes": ["v"]}},
                ],
            }
            typ = REPO
        elif kind == 1:
            member = "allUsers" if i % 97 == 1 else f"serviceAccount:ci-{i}@ml-prod.iam.gserviceaccount.com"
            props = {"project": "ml-prod", "location": "europe-west4", "repository": repo_id,
                     "role": "roles/artifactregistry.reader" if i % 13 else "roles/artifactregistry.admin",
                     "member": member}
            typ = AR_MEMBER
        elif kind == 2:
            props = {"name": f"artifacts-{i}.ml-prod.appspot.com", "location": "EU", "uniformBucketLevelAccess": True,
                     "publicAccessPrevention": "enforced", "labels": {"owner": "ml-platform"}}
            typ = BUCKET
        else:
            props = {"bucket": f"artifacts-{i - 1}.ml-prod.appspot.com", "role": "roles/storage.objectViewer",
                     "member": f"group:ml-{i}@example.com"}
            typ = B_MEMBER
        out.append(Resource(typ, name, f"urn:pulumi:bench::model-registry::{typ}::{name}", props))
    return out


def run(count: int, *, out: Path) -> dict[str, Any]:
    items = resources(count)
    per: list[float] = []
    started = time.perf_counter()
    with PolicyPackClient(PACK_DIR) as pack:
        start_s = pack.start_seconds or 0.0
        pack.configure(None)
        policies = len(pack.info().policies)
        t0 = time.perf_counter()
        violations = remediations = 0
        analyzed: list[Resource] = []
        for res in items:
            r0 = time.perf_counter()
            applied = pack.remediate(res)
            props = dict(res.properties)
            for rem in applied:
                if rem.properties is not None:
                    props = dict(rem.properties)
            violations += len(pack.analyze(res, props))
            per.append(time.perf_counter() - r0)
            remediations += len(applied)
            analyzed.append(Resource(res.type, res.name, res.urn, props))
        s0 = time.perf_counter()
        violations += len(pack.analyze_stack(analyzed))
        stack_s = time.perf_counter() - s0
        sequential_s = time.perf_counter() - t0
        # The engine runs resource steps in parallel (`pulumi up --parallel`), so it keeps several
        # Remediate/Analyze calls in flight: the same 5,000 resources that way, results compared.
        p0 = time.perf_counter()
        found, applied_all = pack.check(items, parallel=PARALLEL)
        resources_s = time.perf_counter() - p0
        if len(found) != violations or len(applied_all) != remediations:
            raise RuntimeError(f"parallel check disagrees: {len(found)} vs {violations} violations")
    total = time.perf_counter() - started
    med = median(per)
    ok_total, ok_start = resources_s < TOTAL_GOAL_S, start_s < START_GOAL_S
    rows = [
        ["pack start (spawn to port line)", f"{start_s:.2f} s", f"< {START_GOAL_S:.0f} s", verdict(ok_start)],
        [f"{count:,} resources: Remediate + Analyze each, AnalyzeStack once, {PARALLEL} in flight (engine-like)",
         f"{resources_s:.2f} s", f"< {TOTAL_GOAL_S:.0f} s", verdict(ok_total)],
        [f"{count:,} resources, one request at a time", f"{sequential_s:.2f} s", "-", ""],
        ["per resource (Remediate + Analyze), median", f"{med * 1000:.2f} ms", "-", ""],
        ["per resource, p95", f"{sorted(per)[int(len(per) * 0.95)] * 1000:.2f} ms", "-", ""],
        ["AnalyzeStack over all resources", f"{stack_s:.2f} s", "-", ""],
        ["everything incl. start, Configure, shutdown", f"{total:.2f} s", "-", ""],
    ]
    result: dict[str, Any] = {"resources": count, "policies": policies, "start_s": start_s, "resources_s": resources_s,
              "sequential_s": sequential_s, "parallel": PARALLEL,
              "median_ms": med * 1000, "analyze_stack_s": stack_s, "total_with_start_s": total,
              "violations": violations, "remediations": remediations, "met_total": ok_total, "met_start": ok_start}
    result["table"] = print_table(f"5. Policy pack throughput ({policies} policies, real pack process over gRPC; "
                                  f"{violations} violations, {remediations} remediations)", rows,
                                  ["what", "measured", "goal", ""])
    return result
