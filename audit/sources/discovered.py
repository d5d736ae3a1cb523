"""One project/location found by org-scale discovery, as a scan source: the same Artifact Registry read as
`ArtifactRegistrySource`, named so that many of them sit side by side in one report (a timing each, one entry
each under `artifact_registries`)."""

from __future__ import annotations

from dataclasses import dataclass

from audit.sources.artifact_registry import scan_artifact_registry
from audit.sources.source import ReportTarget, SourceRead


@dataclass(frozen=True)
class DiscoveredRegistry:
    """`repositories` found by Cloud Asset Inventory, or, when `listed`, every repository the location lists."""

    project: str
    location: str
    repositories: tuple[str, ...] = ()
    listed: bool = False
    endpoint: str | None = None
    timeout: float = 30.0
    shard: tuple[int, int] | None = None

    @property
    def key(self) -> str:
        return f"artifact_registry:{self.project}/{self.location}"

    @property
    def description(self) -> str:
        return f"Artifact Registry {self.project}/{self.location}"

    def read(self) -> SourceRead:
        scan = scan_artifact_registry(self.project, self.location,
                                      repositories=None if self.listed else self.repositories,
                                      endpoint=self.endpoint, timeout=self.timeout, shard=self.shard)
        target = {"project": self.project, "location": self.location,
                  "repositories": "all" if self.listed else list(self.repositories), "endpoint": self.endpoint}
        return SourceRead(scan.state, scan.errors, frozenset(e.target for e in scan.errors),
                          ReportTarget("artifact_registries", target, listed=True))
