"""One OCI registry as a scan source."""

from __future__ import annotations

from dataclasses import dataclass, field

from registry_guard.catalogue.releases import METADATA_TAG, SIGNATURE_SETTINGS
from registry_guard.catalogue.rule import Stage, all_rules
from registry_guard.catalogue.settings import DEFAULT_VERSION_TAG_PATTERN, Settings

from audit.sources.oci.limits import Limits
from audit.sources.oci.scanner import ReleaseReads, scan_oci_registry
from audit.sources.oci.tokens import token_provider_for
from audit.sources.source import ReportTarget, SourceRead


@dataclass(frozen=True)
class OciRegistrySource:
    """`token` is a static registry token; without one, Google hosts get one from ADC."""

    url: str
    token: str | None = field(default=None, repr=False)
    concurrency: int = 16
    rate_limit: float | None = None
    timeout: float = 10.0
    shard: tuple[int, int] | None = None
    token_realms: tuple[str, ...] = ()  # token endpoint hosts besides the registry's own that may get the token
    # Which images are released versions: their signatures and attestations are read (versionTagPattern).
    version_tag_pattern: str = DEFAULT_VERSION_TAG_PATTERN
    # What is read about them (`release_reads`: what the scan's rules judge).
    reads: ReleaseReads = field(default_factory=ReleaseReads)
    limits: Limits | None = None  # what the scan may read (None: the defaults)

    @property
    def key(self) -> str:
        return f"oci:{self.url}"

    @property
    def description(self) -> str:
        return f"OCI registry {self.url}"

    def read(self) -> SourceRead:
        inventory = scan_oci_registry(self.url, concurrency=self.concurrency,
                                      token_provider=token_provider_for(self.url, self.token),
                                      rate_limit=self.rate_limit, timeout=self.timeout, shard=self.shard,
                                      token_realms=self.token_realms,
                                      version_tag_pattern=self.version_tag_pattern, reads=self.reads,
                                      limits=self.limits)
        target = {"url": self.url, "repositories": len(inventory.repositories), "requests": inventory.requests}
        return SourceRead(inventory.to_state(), inventory.errors, inventory.unread,
                          ReportTarget("registries", target, listed=True), requests=inventory.requests)


def release_reads(settings: Settings, rules: frozenset[str] | None) -> ReleaseReads:
    """What a scan reads about released images: signatures and attestations when a rule it runs verifies some
    the settings select, and metadata when a rule it runs judges it (so a scan that judges neither sends the
    requests it sent before either existed)."""
    running = [rule for rule in all_rules().values()
               if Stage.LIVE in rule.stages and (rules is None or rule.id in rules)]
    chosen = {"signedReleases": settings.signed_releases, "provenanceReleases": settings.provenance_releases}
    selecting = {key for key in SIGNATURE_SETTINGS if chosen[key]}
    return ReleaseReads(signatures=any(selecting & set(rule.settings) for rule in running),
                        metadata=any(METADATA_TAG in rule.tags for rule in running))
