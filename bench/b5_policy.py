"""Benchmark 5: 5,000 resources through the real policy pack process over gRPC, as the engine sends them.

The engine asks analyzers while it generates a resource's steps (`pkg/resource/deploy/step_generator.go`:
Remediate on every analyzer, then Analyze, before any step is issued), and the deployment executor
handles one resource registration at a time. So a pack sees one call at a time whatever `--parallel`
is, and this benchmark sends them that way: Remediate, then Analyze on the remediated properties, per
resource, then AnalyzeStack once.

Two clients send the same prebuilt requests: `bench/engine_client` (Go and grpc-go, as the engine; built
from Debian's packages) and our Python `PolicyPackClient` stub. The Go client is the headline: with the
Python one, on 2 cores, its own ~0.3 ms of CPU per call is counted as the pack's wait. Beside our pack
run a bare gRPC Analyzer (what a Python round trip costs) and the same policies on pulumi-policy's own
servicer (what the pack cost before `registry_guard.pack.servicer`), through the same launcher and clients.
"""

from __future__ import annotations

import json
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime.proto import analyzer_pb2
from registry_guard.catalogue.rule import Stage, rules_at

from audit.offline_check.analyzer import PolicyPackClient, Resource

from .common import ROOT, cpu_seconds_of, median, print_table, steal_seconds, verdict

PACK_DIR = ROOT / "policy-pack"
FLOORS = ROOT / "bench" / "packs"
ENGINE_CLIENT_BUILD = ROOT / "bench" / "engine_client" / "build.sh"
TOTAL_GOAL_S, START_GOAL_S, GOAL_RESOURCES = 10.0, 2.0, 5000  # the goal: 5,000 resources under 10 s
CROSS_CHECK = 500  # resources also judged through PolicyPackClient.check(), results compared
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


@dataclass
class PackRun:
    label: str
    client: str  # "go" (engine-like) or "python"
    start_s: float
    resources_s: float  # Remediate + Analyze for every resource, one at a time
    stack_s: float  # AnalyzeStack once
    pack_cpu_s: float  # the pack process's CPU over both
    client_cpu_s: float  # this process's CPU over both (the engine's share, in Go for real)
    violations: int
    remediations: int
    per: list[float] = field(default_factory=list)
    prefix_violations: int = 0  # violations among the first CROSS_CHECK resources

    @property
    def total_s(self) -> float:
        return self.resources_s + self.stack_s


def _remediated(request: Any, response: Any) -> Any:
    """The Analyze request after remediations: the last remediation's properties win, as in the engine."""
    changed = [r for r in response.remediations if r.HasField("properties")]
    if not changed:
        return request
    out = analyzer_pb2.AnalyzeRequest()
    out.CopyFrom(request)
    out.properties.CopyFrom(changed[-1].properties)
    return out


def measure(label: str, pack_dir: Path, items: list[Resource]) -> PackRun:
    """One pack process driven by our Python client: start, Configure with defaults, then the engine's
    calls, one at a time."""
    with PolicyPackClient(pack_dir) as pack:
        pack.configure(None)
        stub, timeout = pack.stub, pack.call_timeout
        requests = [pack.request(r) for r in items]
        analyzed: list[Any] = []
        per: list[float] = []
        violations = remediations = prefix = 0
        cpu0, client0 = cpu_seconds_of(pack.pid), time.process_time()
        t0 = time.perf_counter()
        for i, request in enumerate(requests):
            r0 = time.perf_counter()
            fixed = stub.Remediate(request, timeout=timeout)
            request = _remediated(request, fixed)
            found = stub.Analyze(request, timeout=timeout)
            per.append(time.perf_counter() - r0)
            violations += len(found.diagnostics)
            remediations += len(fixed.remediations)
            analyzed.append(request)
            if i + 1 == CROSS_CHECK:
                prefix = violations
        resources_s = time.perf_counter() - t0
        if len(items) < CROSS_CHECK:
            prefix = violations
        stack_request = analyzer_pb2.AnalyzeStackRequest(resources=[
            analyzer_pb2.AnalyzerResource(type=r.type, properties=r.properties, urn=r.urn, name=r.name,
                                          options=r.options) for r in analyzed])
        cpu_mid, client_mid = cpu_seconds_of(pack.pid), time.process_time()
        s0 = time.perf_counter()
        violations += len(stub.AnalyzeStack(stack_request, timeout=timeout).diagnostics)
        stack_s = time.perf_counter() - s0
        pack_cpu = cpu_seconds_of(pack.pid) - cpu_mid + (cpu_mid - cpu0)
        client_cpu = (time.process_time() - client_mid) + (client_mid - client0)
        return PackRun(label, "python", pack.start_seconds or 0.0, resources_s, stack_s, pack_cpu, client_cpu,
                       violations, remediations, per, prefix)


def engine_client(out: Path) -> tuple[Path | None, str]:
    """Build the Go engine-like client (Debian's Go and grpc-go); (binary, "") or (None, why not)."""
    try:
        done = subprocess.run(["bash", str(ENGINE_CLIENT_BUILD), str(out / "engine-client")], capture_output=True,
                              text=True, timeout=900, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"build did not finish: {exc}"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not Path(lines[-1]).is_file():
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"build failed: {reason}"
    return Path(lines[-1]), ""


def _records(messages: list[bytes]) -> bytes:
    return b"".join(struct.pack(">I", len(m)) + m for m in messages)


def measure_engine(label: str, pack_dir: Path, items: list[Resource], binary: Path, work: Path) -> PackRun:
    """One pack process driven by the Go engine-like client: the same requests, order and Configure."""
    work.mkdir(parents=True, exist_ok=True)
    with PolicyPackClient(pack_dir) as pack:
        pack.configure(None)
        requests = work / "requests.bin"
        requests.write_bytes(_records([pack.request(r).SerializeToString() for r in items]))
        stack = work / "stack.bin"
        stack.write_bytes(pack.stack_request(items).SerializeToString())
        result = work / "result.json"
        cpu0 = cpu_seconds_of(pack.pid)
        subprocess.run([str(binary), "-addr", f"127.0.0.1:{pack.port}", "-requests", str(requests),
                        "-stack", str(stack), "-out", str(result)], check=True, stdin=subprocess.DEVNULL,
                       timeout=600)
        pack_cpu = cpu_seconds_of(pack.pid) - cpu0
        data = json.loads(result.read_text())
        return PackRun(label, "go", pack.start_seconds or 0.0, float(data["resources_s"]), float(data["stack_s"]),
                       pack_cpu, float(data["client_cpu_s"]), int(data["diagnostics"]), int(data["remediations"]),
                       [float(x) for x in data["per_resource_s"]])


def _cross_check(items: list[Resource], ours: PackRun) -> None:
    """The prebuilt-request loop must judge exactly as the offline check's client does."""
    with PolicyPackClient(PACK_DIR) as pack:
        pack.configure(None)
        found, _ = pack.check(items[:CROSS_CHECK])
    stack_rules = {rule.id for rule in rules_at(Stage.DEPLOY) if rule.whole_stack}
    per_resource = [v for v in found if v.policy_name not in stack_rules]
    if len(per_resource) != ours.prefix_violations:
        raise RuntimeError(f"benchmark loop and PolicyPackClient.check disagree: {ours.prefix_violations} vs "
                           f"{len(per_resource)} violations in the first {min(CROSS_CHECK, len(items))} resources")


PACKS = (
    ("protocol floor: bare gRPC Analyzer, empty answers", FLOORS / "protocol_floor"),
    ("the same policies on pulumi-policy's own servicer", FLOORS / "sdk_servicer"),
    ("**Model Registry Guard pack**", PACK_DIR),
)
CLIENTS = {"go": "Go engine-like client", "python": "our Python client"}
ROUNDS = 3


def run(count: int, *, out: Path) -> dict[str, Any]:
    items = resources(count)
    binary, why_not = engine_client(out)
    if binary is None:
        print(f"  engine-like Go client unavailable ({why_not}): timing with the Python client only", flush=True)
    steal0 = steal_seconds()
    # The engine-like runs are the goal's measure: every pack ROUNDS times, alternated, the median kept,
    # so one slow moment of this shared VM neither makes nor breaks the verdict.
    rounds: dict[str, list[PackRun]] = {label: [] for label, _ in PACKS}
    for _ in range(ROUNDS if binary is not None else 0):
        for label, pack_dir in PACKS:
            assert binary is not None
            rounds[label].append(measure_engine(label, pack_dir, items, binary, out / "b5"))
    runs = [sorted(rs, key=lambda r: r.total_s)[len(rs) // 2] for rs in rounds.values() if rs]
    runs += [measure(label, pack_dir, items) for label, pack_dir in PACKS]
    steal = steal_seconds() - steal0
    if binary is not None:
        print("  engine-like rounds, total s: " + "; ".join(
            f"{label.strip('*')}: " + ", ".join(f"{r.total_s:.2f}" for r in rs) for label, rs in rounds.items()),
            flush=True)
    ours = [r for r in runs if r.label == PACKS[-1][0]]
    _cross_check(items, next(r for r in ours if r.client == "python"))
    by = {(r.label, r.client): r for r in runs}
    for client in {r.client for r in runs}:
        protocol, sdk, mine = (by[(label, client)] for label, _ in PACKS)
        if protocol.violations or not mine.violations or sdk.violations != mine.violations:
            raise RuntimeError(f"{client} client: the floor must find nothing and both servicers the same planted "
                               f"violations ({protocol.violations}, {sdk.violations}, {mine.violations})")
    if len({r.violations for r in ours}) != 1:
        raise RuntimeError(f"the clients disagree on the pack's violations: {[r.violations for r in ours]}")
    judged = count == GOAL_RESOURCES  # the 10 s goal is for 5,000 resources; other sizes only print figures
    rows = []
    for run_ in runs:
        rows.append([
            run_.label, CLIENTS[run_.client], f"{run_.start_s:.2f} s", f"{run_.resources_s:.2f} s",
            f"{run_.stack_s:.2f} s", f"{run_.total_s:.2f} s", f"{median(run_.per) * 1000:.2f} / "
            f"{sorted(run_.per)[int(len(run_.per) * 0.95)] * 1000:.2f} ms",
            f"{run_.pack_cpu_s / count * 1000:.2f} ms", f"{run_.client_cpu_s / count * 1000:.2f} ms",
            run_.violations,
        ])
    header = ["pack", "client", "start", f"{count:,} x (Remediate + Analyze), one at a time", "AnalyzeStack",
              "total", "per resource median / p95", "pack CPU per resource", "client CPU per resource",
              "violations"]
    table = print_table(f"5. Policy pack throughput ({count:,} resources, real pack processes over gRPC, "
                        f"engine order; Go rows: the median of {ROUNDS} alternated rounds)", rows, header)
    headline = next((r for r in ours if r.client == "go"), ours[-1])
    start_s = median([r.start_s for r in ours])
    goals = [["pack start (spawn to port line)", f"{start_s:.2f} s", f"< {START_GOAL_S:.0f} s",
              verdict(start_s < START_GOAL_S)]]
    for run_ in sorted(ours, key=lambda r: r is not headline):
        goals.append([f"{count:,} resources + AnalyzeStack, {CLIENTS[run_.client]}"
                      + (" (the goal's measure)" if run_ is headline else ""), f"{run_.total_s:.2f} s",
                      f"< {TOTAL_GOAL_S:.0f} s" if judged else f"(goal is for {GOAL_RESOURCES:,})",
                      verdict(run_.total_s < TOTAL_GOAL_S) if judged else ""])
    for client in sorted({r.client for r in runs}):
        protocol, sdk, mine = (by[(label, client)] for label, _ in PACKS)
        goals.append([f"SDK's servicer / ours, {CLIENTS[client]}", f"{sdk.total_s / mine.total_s:.2f}x", "-", ""])
        goals.append([f"ours / protocol floor, {CLIENTS[client]}", f"{mine.total_s / protocol.total_s:.2f}x", "-", ""])
    table += "\n" + print_table("5. Goals", goals, ["what", "measured", "goal", ""])
    line = (f"  Pack CPU for {count:,} resources: ours {headline.pack_cpu_s:.2f} s, on the SDK's servicer "
            f"{by[(PACKS[1][0], headline.client)].pack_cpu_s:.2f} s, protocol floor "
            f"{by[(PACKS[0][0], headline.client)].pack_cpu_s:.2f} s. CPU stolen from this VM by its host "
            f"during the runs: {steal:.1f} s." + ("" if binary else f" Go client: {why_not}."))
    print(line, flush=True)
    table += "\n\n" + line.strip()
    result: dict[str, Any] = {
        "resources": count, "met_total": headline.total_s < TOTAL_GOAL_S if judged else None,
        "met_start": start_s < START_GOAL_S, "start_s": start_s, "total_s": headline.total_s,
        "headline_client": headline.client, "median_ms": median(headline.per) * 1000,
        "violations": headline.violations, "remediations": headline.remediations, "steal_s": steal,
        "engine_client": str(binary) if binary else why_not,
        "engine_rounds_s": {label: [r.total_s for r in rs] for label, rs in rounds.items()},
        "packs": [{k: v for k, v in vars(p).items() if k != "per"} | {"total_s": p.total_s,
                  "median_ms": median(p.per) * 1000} for p in runs],
        "table": table,
    }
    return result
