"""Every required released version carries SLSA provenance from an allowed builder."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..findings import Finding, Undetermined
from ..history import is_unread
from ..model import Subject
from ..releases import released, trust_of
from ..rule import Inputs, Rule, Stage, declare
from ..signatures import statements, verify_image

SLSA_PROVENANCE = "https://slsa.dev/provenance/"


def builder_of(statement: Mapping[str, Any]) -> str | None:
    """The builder id of a SLSA provenance statement (v1: runDetails.builder.id; v0.2: builder.id)."""
    if not str(statement.get("predicateType", "")).startswith(SLSA_PROVENANCE):
        return None
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        return None
    for holder in (predicate.get("runDetails"), predicate):
        builder = holder.get("builder") if isinstance(holder, dict) else None
        if isinstance(builder, dict) and isinstance(builder.get("id"), str):
            return str(builder["id"])
    return None


@declare(
    id="release-provenance",
    title="Released versions carry provenance from an allowed builder",
    severity="medium",
    stages=(Stage.LIVE,),
    subjects=(Subject.IMAGE,),
    settings=("provenanceReleases", "allowedBuilders", "versionTagPattern", "trustedKeys", "trustedIdentities",
              "sigstoreTrustedRoot"),
    tags=("images", "supply-chain"),
    description="Every version-tagged image that provenanceReleases selects has a SLSA provenance attestation (an "
    "in-toto statement, signed by a trusted key or identity as release-signed verifies signatures) whose subject "
    "digest is the image's and whose builder id is in allowedBuilders. Attestations are read as cosign stores them "
    "(the sha256-<hex>.att tag) and as OCI 1.1 referrers (Sigstore bundles); through the Artifact Registry API "
    "alone they are listed, not read, and the release is could-not-judge.",
    remediation=(
        "Attest the released digest from the build: cosign attest --type slsaprovenance1 --predicate "
        "provenance.json REGISTRY/IMAGE@DIGEST (or the build system's own SLSA generator).",
        "Add the build system's builder id to allowedBuilders once it is one the team trusts.",
    ),
    url="https://slsa.dev/spec/v1.0/provenance",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    settings = inputs.settings
    trust = trust_of(settings)
    for image, tags in released(inputs.state, settings, settings.provenance_releases):
        resource = str(image.ref)
        verdicts = verify_image(image, trust, "attestation")
        builders = [b for b in map(builder_of, statements(verdicts)) if b is not None]
        if any(b in settings.allowed_builders for b in builders):
            continue
        found = [v.describe() for v in verdicts]
        evidence = {"repository": image.repository.name, "package": image.package, "digest": image.digest,
                    "tags": tags, "attestations": found, "builders": builders,
                    "allowedBuilders": list(settings.allowed_builders)}
        where = f"{image.package} {', '.join(tags)} ({image.digest})"
        if builders:
            yield rule.finding(resource, f"{where}: provenance from a builder not allowed: {', '.join(builders)}",
                               evidence)
        elif not verdicts:
            if is_unread(image.repository.name, image.package, inputs.unread):
                yield rule.undetermined(resource, "the repository was not read completely")
                continue
            yield rule.finding(resource, f"{where}: no provenance attestation", evidence)
        elif all(v.reason == "not read" for v in verdicts):
            yield rule.undetermined(resource, f"{where}: its attestations were not read ({'; '.join(found)})")
        else:
            detail = "; ".join(found) if any(not v.ok for v in verdicts) else "no SLSA provenance among them"
            yield rule.finding(resource, f"{where}: no verified SLSA provenance: {detail}", evidence)
