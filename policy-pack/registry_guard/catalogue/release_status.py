"""Per released version, whether it is signed, carries provenance and has an SBOM: what the reports' release
table shows. Statuses are reached the way the release rules judge (the same verification, the same trust), so
a release the rules pass is "verified" here and one they find is "failed"; a release no setting requires
anything of says what is attached without verifying it (its content is read only for what is required).

signed / provenance: verified, failed, missing, not judged (its content or repository was not read),
present (attached, not required, so not verified), none. sbom: present (attached: cosign's .sbom tag or an
SBOM referrer; an SBOM's content is not judged), none.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Literal

from .history import is_unread
from .model import Image, RegistryState
from .releases import released, required_tags, trust_of
from .rules.release_provenance import builder_of
from .settings import Settings
from .signatures import Verdict, statements, verify_image

State = Literal["verified", "failed", "missing", "not judged", "present", "none"]


@dataclass(frozen=True)
class Status:
    state: State
    detail: str = ""  # who signed, which builder, why it failed or was not judged


@dataclass(frozen=True)
class ReleaseStatus:
    image: Image
    tags: tuple[str, ...]
    signed: Status
    provenance: Status
    sbom: Status


def _reasons(verdicts: list[Verdict]) -> str:
    return "; ".join(v.describe() for v in verdicts)[:500]


def _unverified(image: Image, verdicts: list[Verdict], unread: Collection[str], what: str) -> Status:
    """A required release with nothing that counts: why."""
    if not verdicts:
        if is_unread(image.repository.name, image.package, unread):
            return Status("not judged", "the repository was not read completely")
        return Status("missing", f"no {what}")
    if all(v.reason == "not read" for v in verdicts):
        return Status("not judged", _reasons(verdicts))
    return Status("failed", _reasons(verdicts))


def _attached(image: Image, kind: str) -> Status:
    return Status("present", "not required by the settings, so not verified") \
        if any(a.kind == kind for a in image.attached) else Status("none")


def _signed(image: Image, settings: Settings, unread: Collection[str]) -> Status:
    if not required_tags(image, settings, settings.signed_releases):
        return _attached(image, "signature")
    verdicts = verify_image(image, trust_of(settings), "signature")
    good = [v.signer for v in verdicts if v.ok]
    return Status("verified", ", ".join(sorted(set(good)))) if good else _unverified(image, verdicts, unread,
                                                                                    "signature")


def _provenance(image: Image, settings: Settings, unread: Collection[str]) -> Status:
    if not required_tags(image, settings, settings.provenance_releases):
        return _attached(image, "attestation")
    verdicts = verify_image(image, trust_of(settings), "attestation")
    builders = [b for b in map(builder_of, statements(verdicts)) if b is not None]
    allowed = sorted({b for b in builders if b in settings.allowed_builders})
    if allowed:
        return Status("verified", ", ".join(allowed))
    if builders:
        return Status("failed", f"provenance from a builder not allowed: {', '.join(sorted(set(builders)))}")
    if verdicts and all(v.ok for v in verdicts):
        return Status("failed", "no SLSA provenance among the attestations")
    return _unverified(image, verdicts, unread, "provenance attestation")


def release_statuses(state: RegistryState, settings: Settings,
                     unread: Collection[str] = frozenset()) -> Iterator[ReleaseStatus]:
    """Each released version (an image with a version tag), judged once (an Artifact Registry image also read
    through the registry's Docker endpoint is shown there)."""
    for image, tags in released(state, settings, ("*",)):
        yield ReleaseStatus(image, tuple(tags), _signed(image, settings, unread),
                            _provenance(image, settings, unread),
                            Status("present") if any(a.kind == "sbom" for a in image.attached) else Status("none"))
