"""`scan --shard I/N` + `merge`: N local shard processes give the same report as one unsharded scan."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry_guard.catalogue.model import RegistryState
from scan_support import Estate, run_audit

from audit.cli import main
from audit.formats.json_report import validate
from audit.merge import merge_reports
from audit.report import build_report, inventory_of
from audit.sharding import in_shard


def _comparable(doc: dict) -> tuple[list, list, int, int]:
    findings = sorted((f["rule_id"], f["resource"], f["message"]) for f in doc["findings"])
    repos = sorted((r["name"], json.dumps(sorted(r["images"], key=json.dumps), sort_keys=True))
                   for r in doc["inventory"]["repositories"])
    return findings, repos, doc["inventory"]["images"], doc["inventory"]["tags"]


def test_shards_merge_to_the_unsharded_report(estate: Estate, tmp_path: Path) -> None:
    full = estate.scan_args(tmp_path)  # every source: Artifact Registry, buckets, OCI registry
    at = full.index("--output")
    args = full[:at] + full[at + 2:]
    _, whole = run_audit([*args, "--output", str(tmp_path / "whole")], tmp_path / "whole")
    count = 3
    procs = [subprocess.Popen([sys.executable, "-m", "audit", *args, "--shard", f"{i}/{count}",
                               "--output", str(tmp_path / f"shard{i}")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(count)]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode in (0, 1)
    parts = [str(tmp_path / f"shard{i}" / "registry-guard-scan.json") for i in range(count)]
    sizes = [json.loads(Path(p).read_text())["inventory"]["images"] for p in parts]
    assert sum(1 for s in sizes if s) >= 2  # the slices really split the estate
    rc = main(["merge", *parts, "--output", str(tmp_path / "merged")])
    merged = json.loads((tmp_path / "merged" / "registry-guard-merge.json").read_text())
    validate(merged)
    assert rc == 1 and merged["complete"] is True and merged["kind"] == "merge"
    assert _comparable(merged) == _comparable(whole)
    # The merged target says what all shards scanned, not what the first one did.
    target = merged["target"]
    assert target["gcr_buckets"] == whole["target"]["gcr_buckets"]
    assert target["artifact_registry"] == whole["target"]["artifact_registry"]
    assert [(r["url"], r["repositories"]) for r in target["registries"]] == \
        [(r["url"], r["repositories"]) for r in whole["target"]["registries"]]
    assert target["registries"][0]["requests"] >= whole["target"]["registries"][0]["requests"]  # each shard lists
    assert "per_shard" not in target


def test_merge_with_a_missing_shard_is_incomplete(estate: Estate, tmp_path: Path) -> None:
    args = ["scan", "--registry", estate.registry.url, "--quiet", "--shard"]
    for i in (0, 2):
        main([*args, f"{i}/3", "--output", str(tmp_path / f"s{i}")])
    rc = main(["merge", str(tmp_path / "s0" / "registry-guard-scan.json"),
               str(tmp_path / "s2" / "registry-guard-scan.json"), "--output", str(tmp_path / "m")])
    merged = json.loads((tmp_path / "m" / "registry-guard-merge.json").read_text())
    validate(merged)
    assert rc == 3
    assert merged["complete"] is False and merged["summary"]["status"] == "incomplete"
    assert [e["target"] for e in merged["errors"]] == ["shard 1/3"]


def test_merge_refuses_mixed_or_unsharded_reports(estate: Estate, tmp_path: Path) -> None:
    main(["scan", "--registry", estate.registry.url, "--quiet", "--output", str(tmp_path / "u")])
    main(["scan", "--registry", estate.registry.url, "--quiet", "--shard", "0/2", "--output", str(tmp_path / "a")])
    unsharded = str(tmp_path / "u" / "registry-guard-scan.json")
    sharded = str(tmp_path / "a" / "registry-guard-scan.json")
    assert main(["merge", unsharded, sharded, "--output", str(tmp_path / "m")]) == 2
    assert main(["merge", sharded, sharded, "--output", str(tmp_path / "m")]) == 2


def test_cloud_run_task_environment_selects_the_shard(estate: Estate, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CLOUD_RUN_TASK_INDEX", "1")
    monkeypatch.setenv("CLOUD_RUN_TASK_COUNT", "2")
    _, doc = run_audit(["scan", "--registry", estate.registry.url, "--quiet", "--output", str(tmp_path)], tmp_path)
    assert doc["target"]["shard"] == {"index": 1, "count": 2}


def _shard_report(index: int, count: int, target: dict[str, Any]) -> dict[str, Any]:
    report = build_report(generated_at=datetime(2026, 12, 1, tzinfo=UTC),
                          target={**target, "shard": {"index": index, "count": count}}, errors=[], findings=[],
                          undetermined=[], inventory=inventory_of(RegistryState()), rules_evaluated=[],
                          timings={"total": 0.1})
    document = report.to_json()
    validate(document)
    return document


def test_the_merged_target_is_every_shards_not_the_firsts() -> None:
    names = [f"artifacts.p{i}.appspot.com" for i in range(12)]
    mine = [sorted(n for n in names if in_shard(n, (i, 2))) for i in (0, 1)]
    assert all(mine)
    documents = [(f"shard{i}.json", _shard_report(i, 2, {
        "gcr_buckets": mine[i], "registries": [{"url": "http://127.0.0.1:5000", "repositories": 2 + i}],
        "effective_access": {"backend": "local", "policies_read": 10 + i}})) for i in (1, 0)]
    target = merge_reports(documents).target
    assert target["gcr_buckets"] == sorted(names)
    assert target["registries"] == [{"url": "http://127.0.0.1:5000", "repositories": 5}]
    # Counts no sum can state truly are kept per shard, in shard order, not the first shard's for all.
    assert "effective_access" not in target
    assert target["per_shard"] == {"effective_access": [{"backend": "local", "policies_read": 10},
                                                        {"backend": "local", "policies_read": 11}]}
