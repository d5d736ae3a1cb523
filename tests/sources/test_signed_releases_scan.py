"""A scan of a real registry (Debian's docker-registry) judges signed releases end to end: cosign-format
signatures and SLSA provenance pushed with keys the test mints are read by the OCI source and verified by the
release rules with the settings a --config file gives."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from audit.scan import ScanOptions, run_scan
from audit.settings_file import load_settings
from localdev.cosign import attach_sbom, attest_image, new_key, public_pem, sign_image, slsa_statement
from localdev.oci_push import push_image
from localdev.oci_registry import LocalRegistry

BUILDER = "https://ci.example/model-builder"


def test_scan_verifies_signatures_and_provenance(tmp_path: Path) -> None:
    trusted, stranger = new_key("ed25519"), new_key("ecdsa")
    with LocalRegistry() as reg, httpx.Client() as client:
        good = push_image(reg.url, "models/llm", ["v1.0.0"], content_seed="good", client=client)
        foreign = push_image(reg.url, "models/llm", ["v1.1.0"], content_seed="foreign", client=client)
        unsigned = push_image(reg.url, "models/llm", ["v1.2.0"], content_seed="unsigned", client=client)
        sign_image(reg.url, "models/llm", good, trusted, client=client)
        attest_image(reg.url, "models/llm", good, trusted, slsa_statement("models/llm", good, BUILDER), client=client)
        attach_sbom(reg.url, "models/llm", good, b'{"spdxVersion":"SPDX-2.3"}', client=client)
        sign_image(reg.url, "models/llm", foreign, stranger, client=client)
        config = tmp_path / "settings.json"
        config.write_text(json.dumps({
            "signedReleases": ["*"], "provenanceReleases": ["*"], "allowedBuilders": [BUILDER],
            "trustedKeys": [{"name": "release-key", "publicKey": public_pem(trusted)}],
        }))
        outcome = run_scan(ScanOptions(registries=(reg.url,), settings=load_settings(config)))
    report = outcome.report
    assert report.complete
    findings = {(f.rule_id, f.resource.rsplit("@", 1)[-1]): f.message for f in report.findings}
    assert ("release-signed", good) not in findings and ("release-provenance", good) not in findings
    assert "unknown key" in findings[("release-signed", foreign)]
    assert "no signature" in findings[("release-signed", unsigned)]
    assert "no provenance attestation" in findings[("release-provenance", unsigned)]
    assert not any(rule == "version-tag-required" for rule, _ in findings)  # .sig/.att are not images
    # The release table says the same, per released version.
    table = {row["digest"]: row for row in report.releases or ()}
    assert set(table) == {good, foreign, unsigned}
    assert table[good]["signed"] == {"status": "verified", "detail": "key release-key"}
    assert table[good]["provenance"] == {"status": "verified", "detail": BUILDER}
    assert table[good]["sbom"]["status"] == "present"
    assert table[foreign]["signed"]["status"] == "failed" and "unknown key" in table[foreign]["signed"]["detail"]
    assert table[unsigned]["signed"] == {"status": "missing", "detail": "no signature"}
    assert table[unsigned]["sbom"]["status"] == "none"
