"""Every failure path ends in one line and the right exit code, through the real process: 2 for bad input, 3
for what could not be read (with a report saying so wherever a scan ran), never a traceback and exit 1 (which
means findings). Messages name the file, never quote what is in it.

Also: `merge` and `report` take only what is consistent (shards of one scan; a report that says complete
only when it has no read errors)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from reliability_support import REPO_ROOT, CliRun, audit_env, run_cli

from audit.offline_check.check import PackCallError, run_offline_check
from localdev.oci_registry import LocalRegistry

SECRET = "root:$6$c2VjcmV0$9Ee3NBOSr0Wqj0d:19000:0:99999:7:::"


def _one_line(run: CliRun | subprocess.CompletedProcess[str], *mentions: str) -> str:
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr[-3000:]
    assert "Traceback" not in run.stderr + run.stdout
    for text in mentions:
        assert text in lines[0], lines[0]
    assert "9Ee3NBOSr0Wqj0d" not in run.stderr + run.stdout  # what a file holds is never echoed
    return lines[0]


@pytest.fixture(scope="module")
def registry_url(small_registry: tuple[LocalRegistry, dict]) -> str:
    return small_registry[0].url


# ---------------------------------------------------------------------------------------------
# Input files

WAIVER = "waivers:\n- {rule: no-public-access, resource: x, justification: j, owner: o, expires: %s}\n"
CASES: dict[str, tuple[str, str, str]] = {
    # id: (option, file name, content)
    "waiver-expires-with-a-time": ("--waivers", "waivers.yaml", WAIVER % "2030-01-01 10:00:00"),
    "waiver-duplicate-key": ("--waivers", "waivers.yaml",
                             "waivers:\n- rule: no-public-access\n  resource: x\n  resource: y\n  justification: j\n"
                             "  owner: o\n  expires: 2030-01-01\n"),
    "waivers-shadow-file": ("--waivers", "waivers.yaml", SECRET + "\n" + SECRET + "\n"),
    "settings-duplicate-key": ("--config", "settings.yaml", "requiredLabels: [owner]\nrequiredLabels: [team]\n"),
    "settings-duplicate-key-json": ("--config", "settings.json", '{"adminRoles": [], "adminRoles": ["roles/x"]}'),
    "settings-label-the-pack-refuses": ("--config", "settings.yaml", "requiredLabels: ['Bad Label!']\n"),
    "settings-role-the-pack-refuses": ("--config", "settings.yaml", f"adminRoles: ['{SECRET}']\n"),
    "settings-not-this-policys": ("--config", "settings.json", '{"no-public-access": {"versionTagPattern": "v"}}'),
    "settings-bad-level": ("--config", "settings.json", '{"no-broad-admin": "sometimes"}'),
    "settings-nan": ("--config", "settings.json", '{"adminRoles": NaN}'),
    "settings-shadow-file": ("--config", "settings.yaml", SECRET + "\n"),
    "desired-nested-policy-data": ("--desired", "stack.json", json.dumps({"version": 3, "deployment": {"resources": [{
        "urn": "urn:pulumi:dev::p::gcp:storage/bucketIAMPolicy:BucketIAMPolicy::p", "custom": True,
        "type": "gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
        "inputs": {"bucket": "b", "policyData": "[" * 100_000 + "]" * 100_000}}]}})),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_file_is_one_line_exit_2(case: str, registry_url: str, tmp_path: Path) -> None:
    option, name, content = CASES[case]
    path = tmp_path / name
    path.write_text(content)
    run = run_cli(["scan", "--registry", registry_url, "--timeout", "1", "--quiet", option, str(path)],
                  tmp_path / "out")
    if case == "desired-nested-policy-data":  # a usable export; the one policy in it cannot be read, no crash
        run.assert_clean_exit()
        assert run.rc == 1 and run.report["target"]["desired"] == str(path)
        return
    assert run.rc == 2, (run.rc, run.stdout, run.stderr[-2000:])
    _one_line(run, name)


@pytest.mark.parametrize("option", ["--config", "--waivers", "--desired"])
def test_an_endless_input_file_is_refused(option: str, registry_url: str, tmp_path: Path) -> None:
    run = run_cli(["scan", "--registry", registry_url, "--timeout", "1", "--quiet", option, "/dev/zero"],
                  tmp_path / "out", timeout=60)
    assert run.rc == 2, (run.rc, run.stderr[-2000:])
    _one_line(run, "/dev/zero", "larger than")


# ---------------------------------------------------------------------------------------------
# Missing credentials: read errors with google-auth's own hint, never a traceback

NO_CREDENTIALS = {"NO_GCE_CHECK": "True", "GCE_METADATA_HOST": "127.0.0.1:9", "GCE_METADATA_IP": "127.0.0.1:9",
                  "CLOUDSDK_CONFIG": "/nonexistent", "HOME": "/nonexistent"}


def test_google_sources_without_credentials_are_read_errors(registry_url: str, tmp_path: Path) -> None:
    run = run_cli(["scan", "--project", "p", "--location", "us-central1", "--registry", registry_url,
                   "--history", "gs://audit-history/nightly", "--timeout", "2", "--quiet"], tmp_path / "out",
                  env=audit_env(NO_CREDENTIALS, drop=("STORAGE_EMULATOR_HOST",)))
    run.assert_clean_exit()
    assert run.rc == 3 and run.report["complete"] is False
    messages = {e["source"]: e["message"] for e in run.report["errors"]}
    assert "set-up-adc" in messages["history"], messages  # google-auth's own hint, kept
    assert "set-up-adc" in messages["artifact-registry"], messages  # and here too


# ---------------------------------------------------------------------------------------------
# report and merge

def _saved_report(registry_url: str, tmp_path: Path, *extra: str) -> dict[str, Any]:
    run = run_cli(["scan", "--registry", registry_url, "--timeout", "2", "--quiet", *extra], tmp_path)
    run.assert_clean_exit()
    return run.report


@pytest.fixture(scope="module")
def saved(registry_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _saved_report(registry_url, tmp_path_factory.mktemp("saved"))


def _report_cli(tmp_path: Path, document: dict[str, Any] | str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "saved.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    (out / "registry-guard-scan.md").write_text("the earlier markdown")
    return subprocess.run([sys.executable, "-m", "audit", "report", str(path), "--format", "json", "--format",
                           "markdown", "--format", "html", "--format", "oscal", "--output", str(out)],
                          capture_output=True, text=True, env=audit_env(), timeout=120)


@pytest.mark.parametrize("edit", ["bad-date", "nan", "infinity", "huge-int", "bad-waiver-date"])
def test_report_of_a_broken_document_writes_nothing(saved: dict[str, Any], tmp_path: Path, edit: str) -> None:
    text = json.dumps(saved)
    document = copy.deepcopy(saved)
    if edit == "bad-date":
        document["generated_at"] = "2026-02-30T00:00:00+00:00"
    elif edit == "bad-waiver-date":
        document["waivers"] = [{"rule_id": "no-public-access", "resource": "x", "justification": "j", "owner": "o",
                                "expires": "2026-02-30", "status": "active", "matched": 0}]
    if edit in ("bad-date", "bad-waiver-date"):
        text = json.dumps(document)
    else:
        number = {"nan": "NaN", "infinity": "1e400", "huge-int": "1" + "0" * 40}[edit]
        text = text.replace('"timings": {', f'"timings": {{"total": {number}, "x": ', 1)
    proc = _report_cli(tmp_path, text)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    _one_line(proc, "saved.json")
    out = tmp_path / "out"
    # All formats or none: the earlier file is as it was, and nothing new (not even a temporary file).
    assert sorted(p.name for p in out.iterdir()) == ["registry-guard-scan.md"]
    assert (out / "registry-guard-scan.md").read_text() == "the earlier markdown"


def test_report_that_says_complete_beside_read_errors_is_incomplete(saved: dict[str, Any], tmp_path: Path) -> None:
    document = copy.deepcopy(saved)
    document["errors"] = [{"source": "oci", "target": "127.0.0.1:5000/models/llm", "message": "HTTP 500"}]
    assert document["complete"] is True
    proc = _report_cli(tmp_path, document)
    assert proc.returncode == 3, proc.stderr
    rendered = json.loads((tmp_path / "out" / "registry-guard-scan.json").read_text())
    assert rendered["complete"] is False and rendered["summary"]["status"] == "incomplete"


def _merge(tmp_path: Path, *documents: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    paths = []
    for i, document in enumerate(documents):
        path = tmp_path / f"shard{i}.json"
        path.write_text(json.dumps(document))
        paths.append(str(path))
    return subprocess.run([sys.executable, "-m", "audit", "merge", *paths, "--output", str(tmp_path / "merged")],
                          capture_output=True, text=True, env=audit_env(), timeout=120)


@pytest.fixture(scope="module")
def shards(registry_url: str, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return [_saved_report(registry_url, tmp_path_factory.mktemp(f"shard{i}"), "--shard", f"{i}/2") for i in (0, 1)]


def test_merge_refuses_shards_of_different_scans(shards: list[dict[str, Any]], tmp_path: Path) -> None:
    with LocalRegistry() as other:
        elsewhere = _saved_report(other.url, tmp_path / "other", "--shard", "1/2")
    proc = _merge(tmp_path, shards[0], elsewhere)
    assert proc.returncode == 2
    _one_line(proc, "not shards of one scan", "registries")


@pytest.mark.parametrize("edit", ["index-past-count", "huge-count", "missing-field", "not-a-scan"])
def test_merge_refuses_inconsistent_shards(shards: list[dict[str, Any]], tmp_path: Path, edit: str) -> None:
    first, second = copy.deepcopy(shards)
    if edit == "index-past-count":
        second["target"]["shard"]["index"] = 5
    elif edit == "huge-count":
        first["target"]["shard"]["count"] = second["target"]["shard"]["count"] = 10**12
    elif edit == "missing-field":
        repositories = first["inventory"]["repositories"] or second["inventory"]["repositories"]
        del repositories[0]["name"]
    else:
        first["kind"] = "check"
    proc = _merge(tmp_path, first, second)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    _one_line(proc)


def test_merge_of_whole_shards_is_complete(shards: list[dict[str, Any]], tmp_path: Path) -> None:
    proc = _merge(tmp_path, *shards)
    assert proc.returncode == 1, proc.stderr
    merged = json.loads((tmp_path / "merged" / "registry-guard-merge.json").read_text())
    assert merged["complete"] is True


# ---------------------------------------------------------------------------------------------
# check: stack configs, Pulumi.yaml and a pack that stops answering

def _check(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "audit", "check", "--quiet", "--output", str(tmp_path / "out"),
                           *args], capture_output=True, text=True, cwd=REPO_ROOT, env=audit_env(), timeout=180)


@pytest.mark.parametrize("content", [
    "config:\n  model-registry:location: !!binary aGVsbG8=\n",
    "config:\n  1: us-central1\n",
    "config:\n  model-registry:labels: {[a]: b}\n",
    "config:\n  model-registry:labels:\n    ? [a, b]\n    : c\n",
], ids=["binary", "number-key", "list-key", "nested-list-key"])
def test_stack_config_that_pulumi_could_not_hand_a_program(tmp_path: Path, content: str) -> None:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(content)
    proc = _check(tmp_path, "--stack-config", str(path))
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    _one_line(proc, "Pulumi.dev.yaml")


def test_stack_config_dates_are_the_text_they_were_written_as(tmp_path: Path) -> None:
    """A YAML date reaches the program as the text Pulumi would give it (it once crashed the JSON encoding):
    here the program's own config check names the key."""
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  gcp:project: demo-project\n  model-registry:reviewed: 2030-01-01\n")
    proc = _check(tmp_path, "--stack-config", str(path))
    assert proc.returncode == 2, proc.stderr[-2000:]
    _one_line(proc, "model-registry:reviewed")


def test_a_malformed_pulumi_yaml_is_one_line(tmp_path: Path) -> None:
    program = tmp_path / "program"
    program.mkdir()
    (program / "__main__.py").write_text("import pulumi\n")
    (program / "Pulumi.yaml").write_text(f"name: [unclosed\n{SECRET}\n")
    proc = _check(tmp_path, "--program", str(program), "--config-value", "gcp:project=demo-project")
    assert proc.returncode == 2, proc.stderr[-2000:]
    _one_line(proc, "Pulumi.yaml")


DIES_AFTER_ITS_PORT = """
import socket
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)  # a port nothing will ever answer on
"""

HANGS_IN_ANALYZE = """
import sys, threading
from concurrent import futures
import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

class Hanging(analyzer_pb2_grpc.AnalyzerServicer):
    def GetAnalyzerInfo(self, request, context):
        return analyzer_pb2.AnalyzerInfo(name="hanging", version="1")
    def Configure(self, request, context):
        return empty_pb2.Empty()
    def Remediate(self, request, context):
        return analyzer_pb2.RemediateResponse()
    def Analyze(self, request, context):
        threading.Event().wait()  # never answers

server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
analyzer_pb2_grpc.add_AnalyzerServicer_to_server(Hanging(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(port, flush=True)
server.wait_for_termination()
"""


def _pack(tmp_path: Path, source: str) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (pack / "__main__.py").write_text(textwrap.dedent(source))
    return pack


def test_a_pack_that_dies_after_printing_its_port(tmp_path: Path) -> None:
    pack = _pack(tmp_path, DIES_AFTER_ITS_PORT)
    proc = _check(tmp_path, "--policy-pack", str(pack), "--config-value", "gcp:project=demo-project")
    assert proc.returncode == 3, (proc.returncode, proc.stderr[-2000:])
    _one_line(proc, "GetAnalyzerInfo failed", "UNAVAILABLE")
    assert "would pass" not in proc.stdout


def test_a_pack_that_hangs_in_analyze(tmp_path: Path) -> None:
    pack = _pack(tmp_path, HANGS_IN_ANALYZE)
    with pytest.raises(PackCallError, match=r"Analyze failed \(no answer within the call timeout\)"):
        run_offline_check(REPO_ROOT, {"gcp:project": "demo-project"}, pack, call_timeout=1.0)
