"""Every required released version carries a valid signature from a trusted identity."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Finding, Undetermined
from ..history import is_unread
from ..model import Subject
from ..releases import released, trust_of
from ..rule import Inputs, Rule, Stage, declare
from ..signatures import verify_image


@declare(
    id="release-signed",
    title="Released versions are signed by a trusted identity",
    severity="high",
    stages=(Stage.LIVE,),
    subjects=(Subject.IMAGE,),
    settings=("signedReleases", "versionTagPattern", "trustedKeys", "trustedIdentities", "sigstoreTrustedRoot"),
    tags=("images", "supply-chain"),
    description="Every version-tagged image that signedReleases selects has at least one valid signature from a "
    "trusted identity: a cosign key pair (trustedKeys: ECDSA P-256, Ed25519, RSA) or a keyless Sigstore identity "
    "(trustedIdentities: OIDC issuer and subject pattern), verified offline against the trusted root "
    "(sigstoreTrustedRoot) with the transparency-log proof checked when the bundle carries one. Signatures are "
    "read as cosign stores them (the sha256-<hex>.sig tag) and as OCI 1.1 referrers (Sigstore bundles). Each "
    "finding says what was found and why it does not count: no signature, signature over another digest, "
    "unknown key, identity not allowed, certificate outside its validity, bad bundle. The Artifact Registry API "
    "lists signatures (referrers tied to their image by their attachment) but does not serve them: a release "
    "read only through it is could-not-judge, and says why; one also read through the registry's Docker "
    "endpoint is judged there.",
    remediation=(
        "Sign the released digest in CI: cosign sign --key KEY REGISTRY/IMAGE@DIGEST, or keyless from the "
        "build workflow (cosign sign REGISTRY/IMAGE@DIGEST with its OIDC identity).",
        "Add the signer's public key to trustedKeys, or its issuer and subject to trustedIdentities, once it "
        "is one the team trusts.",
    ),
    url="https://docs.sigstore.dev/cosign/verifying/verify/",
)
def check(rule: Rule, inputs: Inputs) -> Iterator[Finding | Undetermined]:
    settings = inputs.settings
    trust = trust_of(settings)
    for image, tags in released(inputs.state, settings, settings.signed_releases):
        resource = str(image.ref)
        verdicts = verify_image(image, trust, "signature")
        if any(v.ok for v in verdicts):
            continue
        found = [v.describe() for v in verdicts]
        evidence = {"repository": image.repository.name, "package": image.package, "digest": image.digest,
                    "tags": tags, "signatures": found}
        if not verdicts:
            if is_unread(image.repository.name, image.package, inputs.unread):
                yield rule.undetermined(resource, "the repository was not read completely: a signature may "
                                        "exist that the scan did not see")
                continue
            yield rule.finding(resource, f"{image.package} {', '.join(tags)} ({image.digest}): no signature "
                               "(neither cosign's tag nor a referrer)", {**evidence, "reason": "no signature"})
        elif all(v.reason == "not read" for v in verdicts):
            yield rule.undetermined(resource, f"{image.package} {', '.join(tags)}: its signatures were not read "
                                    f"({'; '.join(found)})")
        else:
            reasons = sorted({str(v.reason) for v in verdicts if v.reason != "not read"})
            yield rule.finding(resource, f"{image.package} {', '.join(tags)} ({image.digest}): no valid signature "
                               f"from a trusted identity: {'; '.join(found)}", {**evidence, "reason": reasons})
