"""The README's main job on local components: seed a registry estate, audit it twice, leave a report.

Real components only: Debian's docker-registry on 127.0.0.1, gcp-storage-emulator, and the local
Artifact Registry, Resource Manager and IAM stand-ins driven by the real clients (the scan reads effective
access: an inherited admin grant on the folder above the project, and people who may act as the CI account),
and the released versions of one model are signed, as cosign signs them, by a key the settings trust.
Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from localdev import demo_estate
from localdev.artifact_registry import ArtifactRegistryFake
from localdev.gcs_emulator import GcsEmulator
from localdev.google_iam import GoogleIamFakes
from localdev.oci_registry import LocalRegistry

OUT = Path("demo-output")


def _audit(args: list[str], env_note: str) -> int:
    print(f"\n$ python -m audit {' '.join(args)}   # {env_note}", flush=True)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONWARNINGS": "ignore::FutureWarning"}
    rc = subprocess.call([sys.executable, "-m", "audit", *args], env=env)
    print(f"(exit code {rc}, {time.perf_counter() - started:.2f} s)", flush=True)
    return rc


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    history = Path(tempfile.mkdtemp(prefix="registry-guard-history-"))
    with LocalRegistry() as registry, GcsEmulator(project=demo_estate.PROJECT) as gcs, \
            ArtifactRegistryFake() as ar, GoogleIamFakes() as google:
        seeded = demo_estate.seed_oci(registry.url)
        settings = history / "settings.json"
        settings.write_text(json.dumps(demo_estate.sign_releases(registry.url, seeded)))
        risky_bucket, hardened_bucket = demo_estate.seed_gcs(gcs)
        demo_estate.seed_artifact_registry(ar.estate)
        demo_estate.seed_hierarchy(google.estate)
        desired = _stack_export(history)
        common = [
            "scan", "--project", demo_estate.PROJECT, "--location", demo_estate.LOCATION,
            "--artifact-registry-endpoint", ar.endpoint, "--effective-access",
            "--resource-manager-endpoint", google.resource_manager.endpoint,
            "--iam-endpoint", google.iam.endpoint,
            "--gcr-bucket", risky_bucket, "--gcr-bucket", hardened_bucket,
            "--registry", registry.url, "--history", str(history), "--desired", str(desired),
            "--config", str(settings), "--quiet",
        ]
        _audit([*common, "--output", str(OUT / "night-1")], "first nightly scan")
        demo_estate.tamper_oci(registry.url, seeded)
        print("\n# between the scans: models/sentiment:v1.0.0 re-pushed with new content (unsigned), "
              "models/llm:v2.0.0 deleted", flush=True)
        rc = _audit([*common, "--output", str(OUT), "--format", "json", *_extra_formats()],
                    "second nightly scan")
    shutil.rmtree(history, ignore_errors=True)
    reports = sorted(p for p in OUT.glob("registry-guard-scan.*"))
    print("\nReports of the second scan (open the HTML one in a browser):" if any(
        p.suffix == ".html" for p in reports) else "\nReports of the second scan:")
    for path in reports:
        print(f"  {path.resolve()}")
    # Findings are the point of the demo; only a broken run fails it.
    return 0 if rc in (0, 1) else rc


def _stack_export(folder: Path) -> Path:
    """The project's own stack, declaring both Artifact Registry repositories, as `pulumi stack export`
    would write it (run under mocks: no Pulumi CLI or cloud here)."""
    from audit.sources.stack_program import run_stack_program
    from localdev.stack_export import stack_export_document

    run = run_stack_program(Path("__main__.py"), {
        "gcp:project": demo_estate.PROJECT,
        "model-registry:location": demo_estate.LOCATION,
        "model-registry:repositories": json.dumps(["models-hardened", "models-risky"]),
        "model-registry:owner": "ml-platform",
        "model-registry:readers": json.dumps(["group:ml-readers@example.com"]),
        "model-registry:writers": json.dumps(["serviceAccount:ci-push@demo-project.iam.gserviceaccount.com"]),
    })
    path = folder / "stack-export.json"
    path.write_text(json.dumps(stack_export_document(run, demo_estate.PROJECT), indent=1))
    return path


def _extra_formats() -> list[str]:
    from audit.formats import FORMATS

    return [arg for name in FORMATS if name != "json" for arg in ("--format", name)]


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    sys.exit(main())
