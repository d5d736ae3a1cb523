"""What judging produces: findings, and explicit "could not judge" results (never silent passes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One rule broken by one resource. Severity, remediation and frameworks come from the rule."""

    rule_id: str
    resource: str
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    # Where the resource is declared, when a stack export or program says (e.g. "__main__.py#42").
    source_location: str | None = None
    # False for a proven problem that takes no effect as configured (a DELETE policy in dry run): the pack
    # reports it without blocking the deployment.
    blocks: bool = True


@dataclass(frozen=True)
class Undetermined:
    """A rule that could not be judged for a resource, and why (e.g. a value unknown at preview)."""

    rule_id: str
    resource: str
    reason: str
