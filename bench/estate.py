"""One seeded Debian docker-registry on loopback, shared by benchmarks 1-3 in a run."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import TracebackType

from localdev.oci_push import seed_model_registry
from localdev.oci_registry import LocalRegistry


class SeededRegistry:
    def __init__(self, repos: int, tags: int, *, storage: str = "inmemory", seed_concurrency: int = 8) -> None:
        self.repos, self.tags = repos, tags
        self.registry = LocalRegistry(storage=storage)  # type: ignore[arg-type]
        self.seed_concurrency = seed_concurrency
        self.expected: dict[str, dict[str, str]] = {}
        self.seed_seconds = 0.0

    @property
    def url(self) -> str:
        return self.registry.url

    @property
    def pid(self) -> int | None:
        return self.registry.pid

    @property
    def tag_count(self) -> int:
        return sum(len(t) for t in self.expected.values())

    def __enter__(self) -> SeededRegistry:
        self.registry.start()
        try:
            started = time.perf_counter()
            self.expected = seed_model_registry(self.url, self.repos, self.tags, concurrency=self.seed_concurrency)
            self.seed_seconds = time.perf_counter() - started
        except BaseException:
            self.registry.stop()
            raise
        print(f"registry {self.url}: seeded {self.repos} repos x {self.tags} tags in {self.seed_seconds:.1f} s",
              flush=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.registry.stop()

    def check_audit_report(self, report: Path, host: str | None = None) -> None:
        """The audit's JSON report must hold exactly the seeded (repo, tag) -> digest inventory."""
        doc = json.loads(report.read_text())
        if not doc.get("complete"):
            raise RuntimeError(f"audit report incomplete: {doc.get('errors')[:3]}")
        got: dict[str, dict[str, str]] = {}
        for repo in doc["inventory"]["repositories"]:
            for image in repo["images"]:
                for tag in image["tags"]:
                    got.setdefault(image["package"], {})[tag] = image["digest"]
        if got != self.expected:
            raise RuntimeError("audit inventory differs from what was seeded")

    def check_inventory(self, inventory: dict[str, dict[str, str]]) -> None:
        if inventory != self.expected:
            raise RuntimeError("skopeo inventory differs from what was seeded")
