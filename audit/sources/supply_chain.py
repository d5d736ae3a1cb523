"""Signatures, attestations and SBOMs as registries store them: what a tag or a manifest says it is, and
which image digest it describes. Shared by every source that lists a registry's tags or manifests, so an
artifact is recognised the same way wherever it is read, and never judged as an image.

Two ways of storing them, both recognised:

* cosign's tag scheme: `sha256-<hex>.sig`, `.att` and `.sbom` name the digest they describe; the manifest
  under the tag is an image manifest of its own (signatures' layers are simple-signing payloads with the
  signature in an annotation, attestations' layers DSSE envelopes).
* OCI 1.1 referrers: a manifest with a `subject` (the image) and an `artifactType`, listed by the registry's
  `/v2/<name>/referrers/<digest>` API or, on a registry without it, in an index under the tag `sha256-<hex>`
  (the referrers tag schema, which is itself not an image either).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from registry_guard.catalogue.model import ArtifactKind

_COSIGN_TAG: Final = re.compile(r"^sha256-([0-9a-f]{64})\.(sig|att|sbom)$")
_REFERRERS_TAG: Final = re.compile(r"^sha256-([0-9a-f]{64})$")
_COSIGN_SUFFIX: Final[Mapping[str, ArtifactKind]] = {"sig": "signature", "att": "attestation", "sbom": "sbom"}

OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"
SIGSTORE_BUNDLE_TYPES: Final = (
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
)
_BUNDLE_BASE_TYPES: Final = frozenset(t.split(";")[0] for t in SIGSTORE_BUNDLE_TYPES)
COSIGN_SIMPLE_SIGNING: Final = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE: Final = "application/vnd.dsse.envelope.v1+json"
IN_TOTO: Final = "application/vnd.in-toto+json"
# cosign's predicate type for an image signature made as a Sigstore bundle (`cosign sign --new-bundle-format`).
COSIGN_SIGN_PREDICATE: Final = "https://sigstore.dev/cosign/sign/v1"
BUNDLE_PREDICATE_ANNOTATION: Final = "dev.sigstore.bundle.predicateType"
SBOM_TYPES: Final = (
    "application/spdx+json", "text/spdx", "text/spdx+json", "application/vnd.cyclonedx+json",
    "application/vnd.cyclonedx+xml", "application/vnd.cyclonedx", "application/vnd.syft+json",
)


def digest_of_hex(hex_digest: str) -> str:
    return f"sha256:{hex_digest}"


def cosign_tag(tag: str) -> tuple[str, ArtifactKind] | None:
    """(the digest it describes, what it is) for a cosign tag `sha256-<hex>.sig|.att|.sbom`, else None."""
    match = _COSIGN_TAG.match(tag)
    return None if match is None else (digest_of_hex(match.group(1)), _COSIGN_SUFFIX[match.group(2)])


def referrers_tag(tag: str) -> str | None:
    """The digest a referrers tag fallback `sha256-<hex>` lists the referrers of, else None."""
    match = _REFERRERS_TAG.match(tag)
    return None if match is None else digest_of_hex(match.group(1))


def is_supply_chain_tag(tag: str) -> bool:
    """Whether a tag names a signature, attestation, SBOM or referrers index rather than an image."""
    return cosign_tag(tag) is not None or referrers_tag(tag) is not None


def cosign_tag_for(digest: str, kind: ArtifactKind) -> str | None:
    """The cosign tag that would hold `kind` for `digest` (None for a digest that is not sha256)."""
    algorithm, _, hex_digest = digest.partition(":")
    if algorithm != "sha256":
        return None
    suffix = next(s for s, k in _COSIGN_SUFFIX.items() if k == kind)
    return f"sha256-{hex_digest}.{suffix}"


def referrers_tag_for(digest: str) -> str | None:
    algorithm, _, hex_digest = digest.partition(":")
    return f"sha256-{hex_digest}" if algorithm == "sha256" else None


def referrer_kind(artifact_type: str, annotations: Mapping[str, str],
                  layer_types: tuple[str, ...] = ()) -> ArtifactKind | None:
    """What a referrer is, from its artifactType (or config media type), annotations and layer media types;
    None for a referrer that is none of the three (another kind of artifact: passed over)."""
    kind = artifact_type.split(";")[0].strip().lower()
    types = {kind, *(t.split(";")[0].strip().lower() for t in layer_types)}
    if kind in _BUNDLE_BASE_TYPES:
        predicate = annotations.get(BUNDLE_PREDICATE_ANNOTATION, COSIGN_SIGN_PREDICATE)
        return "signature" if predicate == COSIGN_SIGN_PREDICATE else "attestation"
    if types & set(SBOM_TYPES):
        return "sbom"
    if COSIGN_SIMPLE_SIGNING in types:
        return "signature"
    if types & {DSSE_ENVELOPE, IN_TOTO} or kind.startswith("application/vnd.in-toto"):
        return "attestation"
    return None


__all__ = [
    "BUNDLE_PREDICATE_ANNOTATION", "COSIGN_SIGN_PREDICATE", "COSIGN_SIMPLE_SIGNING", "DSSE_ENVELOPE", "IN_TOTO",
    "OCI_INDEX", "SBOM_TYPES", "SIGSTORE_BUNDLE_TYPES", "cosign_tag", "cosign_tag_for", "is_supply_chain_tag",
    "referrer_kind", "referrers_tag", "referrers_tag_for",
]
