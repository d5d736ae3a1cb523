"""One OCI registry as a scan source."""

from __future__ import annotations

from dataclasses import dataclass, field

from registry_guard.catalogue.settings import DEFAULT_VERSION_TAG_PATTERN

from audit.sources.oci.scanner import scan_oci_registry
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
                                      version_tag_pattern=self.version_tag_pattern)
        target = {"url": self.url, "repositories": len(inventory.repositories), "requests": inventory.requests}
        return SourceRead(inventory.to_state(), inventory.errors, inventory.unread,
                          ReportTarget("registries", target, listed=True), requests=inventory.requests)
