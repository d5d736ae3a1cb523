"""What a run may tell the formats beyond the report itself: where its files live in the repository, and how
code scanning should file its results. None of it changes what the report says."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCHEME = re.compile(r"^https://[^\s/]+(/[^\s]*)?$")


@dataclass(frozen=True)
class RenderOptions:
    """`sarif_category`: GitHub code scanning's category for this run (default: derived from the report's
    target, see `sarif.category`). `path_prefix`: the program's folder inside the repository, prepended to
    every repository-relative path (SARIF locations, source links), for a stack that is not at the
    repository's root. `source_url`: the base URL of the repository's files at the scanned commit
    (`https://github.com/ORG/REPO/blob/SHA/`); where given, the Markdown links each declaring line."""

    sarif_category: str | None = None
    path_prefix: str = ""
    source_url: str | None = None

    def __post_init__(self) -> None:
        if self.sarif_category is not None and not self.sarif_category.strip():
            raise ValueError("--sarif-category: must not be empty")
        prefix = self.path_prefix
        if prefix and (prefix.startswith("/") or "\\" in prefix or ".." in prefix.split("/")):
            raise ValueError(f"--sarif-path-prefix: expected a path inside the repository such as "
                             f"infra/registry, got {prefix!r}")
        if self.source_url is not None and not _SCHEME.match(self.source_url):
            raise ValueError(f"--source-url: expected an https:// URL, got {self.source_url!r}")

    def repository_path(self, path: str) -> str:
        """A program-relative path as a repository-relative one."""
        prefix = self.path_prefix.strip("/").removeprefix("./")
        path = path.lstrip("/")
        return f"{prefix}/{path}" if prefix not in ("", ".") else path


DEFAULT = RenderOptions()
