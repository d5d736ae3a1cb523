"""The audit report: the one document every output format is rendered from.

Built once from the judged findings plus what the scan could and could not read. Formats only
render it; none re-judges anything. Its JSON shape is documented by `schemas/report.schema.json`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import date, datetime
from typing import Any

from registry_guard.catalogue.findings import Finding, Undetermined
from registry_guard.catalogue.model import Image, ImageMetadata, RegistryState, Repository, is_unknown
from registry_guard.catalogue.rule import rule
from registry_guard.catalogue.severity import MOST_SEVERE_FIRST, severity_rank

from . import __version__
from .errors import ScanError

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class Waiver:
    """An accepted risk: findings of `rule_id` on resources matching `resource` (a glob) are waived
    until `expires`. `status` says what the run made of it: active, expired or unused."""

    rule_id: str
    resource: str
    justification: str
    owner: str
    expires: str  # ISO date
    status: str = "active"  # active | expired | unused
    matched: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "resource": self.resource, "justification": self.justification,
                "owner": self.owner, "expires": self.expires, "status": self.status, "matched": self.matched}


@dataclass(frozen=True)
class ReportFinding:
    rule_id: str
    title: str
    severity: str
    resource: str
    message: str
    remediation: tuple[str, ...]
    frameworks: tuple[str, ...]
    evidence: Mapping[str, Any]
    source_location: str | None = None
    waiver: Waiver | None = None  # set when an active waiver covers this finding
    trend: str | None = None  # new | still-open, when history gave a previous report

    @property
    def fingerprint(self) -> str:
        """Stable identity across runs: rule, resource and the evidence that names the problem."""
        import hashlib

        key = "|".join([self.rule_id, self.resource, *(f"{k}={self.evidence.get(k)}" for k in
                        ("role", "member", "shape", "tag", "setting", "policy", "change", "digest", "snapshot")
                        if k in self.evidence)])
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    @property
    def waived(self) -> bool:
        return self.waiver is not None

    @classmethod
    def from_finding(cls, finding: Finding) -> ReportFinding:
        declared = rule(finding.rule_id)
        return cls(
            rule_id=finding.rule_id,
            title=declared.title,
            severity=declared.severity,
            resource=finding.resource,
            message=finding.message,
            remediation=declared.remediation,
            frameworks=tuple(str(f) for f in declared.frameworks),
            evidence=dict(finding.evidence),
            source_location=finding.source_location,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity,
            "resource": self.resource,
            "message": self.message,
            "remediation": list(self.remediation),
            "frameworks": list(self.frameworks),
            "evidence": _jsonable(self.evidence),
            "source_location": self.source_location,
            "fingerprint": self.fingerprint,
            "waived": self.waived,
            "waiver": self.waiver.to_json() if self.waiver else None,
            "trend": self.trend,
        }


@dataclass(frozen=True)
class Report:
    generated_at: datetime
    target: Mapping[str, Any]
    complete: bool
    errors: tuple[ScanError, ...]
    findings: tuple[ReportFinding, ...]
    undetermined: tuple[Undetermined, ...]
    inventory: Mapping[str, Any]
    rules_evaluated: tuple[str, ...]
    timings: Mapping[str, float] = field(default_factory=dict)
    kind: str = "scan"  # scan | check | merge
    history: Mapping[str, Any] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()
    # Findings of the previous report that are gone now (when history kept one).
    resolved: tuple[ReportFinding, ...] = ()
    # Effective access (scan --effective-access): the access matrix (audit/access_matrix.py), or None.
    access: Mapping[str, Any] | None = None
    # Released versions and their signed / provenance / SBOM status (audit/release_table.py); None: not a scan.
    releases: Sequence[Mapping[str, Any]] | None = None

    def at_or_above(self, severity: str) -> list[ReportFinding]:
        """Unwaived findings at or above `severity`: what fails the exit code."""
        floor = severity_rank(severity)
        return [f for f in self.findings if severity_rank(f.severity) >= floor and not f.waived]

    def summary(self) -> dict[str, Any]:
        by_severity = Counter(f.severity for f in self.findings)
        by_rule = Counter(f.rule_id for f in self.findings)
        return {
            "total": len(self.findings),
            "by_severity": {s: by_severity.get(s, 0) for s in MOST_SEVERE_FIRST},
            "by_rule": dict(sorted(by_rule.items())),
            "undetermined": len(self.undetermined),
            "errors": len(self.errors),
            "waived": sum(1 for f in self.findings if f.waived),
            "waivers": {s: sum(1 for w in self.waivers if w.status == s) for s in ("active", "expired", "unused")},
            "trend": None if not self.history.get("previous_report") else {
                "new": sum(1 for f in self.findings if f.trend == "new"),
                "still_open": sum(1 for f in self.findings if f.trend == "still-open"),
                "resolved": len(self.resolved),
            },
            # Only a complete scan with no unwaived findings may be called compliant.
            "status": "incomplete" if not self.complete else (
                "compliant" if all(f.waived for f in self.findings) else "non-compliant"),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "tool": {"name": "model-registry-guard", "version": __version__},
            "generated_at": self.generated_at.isoformat(),
            "target": _jsonable(self.target),
            "complete": self.complete,
            "errors": [{"source": e.source, "target": e.target, "message": e.message} for e in self.errors],
            "summary": self.summary(),
            "rules_evaluated": list(self.rules_evaluated),
            "inventory": _jsonable(self.inventory),
            "findings": [f.to_json() for f in self.findings],
            "undetermined": [{"rule_id": u.rule_id, "resource": u.resource, "reason": u.reason}
                             for u in self.undetermined],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            **({"history": _jsonable(self.history)} if self.history else {}),
            "waivers": [w.to_json() for w in self.waivers],
            "resolved": [f.to_json() for f in self.resolved],
            **({"access": _jsonable(self.access)} if self.access is not None else {}),
            **({"releases": _jsonable(self.releases)} if self.releases is not None else {}),
        }


def inventory_of(state: RegistryState) -> dict[str, Any]:
    """What was seen: repositories with their settings, images with their tags, buckets."""
    images_by_repo: dict[str, list[Image]] = {}
    for image in state.images:
        images_by_repo.setdefault(image.repository.name, []).append(image)
    repo_names = {r.ref.name for r in state.repositories} | set(images_by_repo)
    settings = {r.ref.name: _repository_json(r) for r in state.repositories}
    repositories = []
    for name in sorted(repo_names):
        images = sorted(images_by_repo.get(name, ()), key=lambda i: (i.package, i.digest or ""))
        repositories.append({
            "name": name,
            "settings": settings.get(name),
            "images": [_image_json(i) for i in images],
        })
    return {
        "repositories": repositories,
        "buckets": [{"name": b.ref.name, "uniform_access": _plain(b.uniform_access),
                     "public_access_prevention": _plain(b.public_access_prevention),
                     "container_registry": b.is_container_registry} for b in state.buckets],
        "legacy_registries": [r.ref.name for r in state.legacy_registries],
        "iam_grants": len(state.grants),
        "images": len(state.images),
        "tags": sum(len(i.tags) for i in state.images),
    }


def build_report(
    *,
    generated_at: datetime,
    target: Mapping[str, Any],
    errors: Sequence[ScanError],
    findings: Iterable[Finding],
    undetermined: Iterable[Undetermined],
    inventory: Mapping[str, Any],
    rules_evaluated: Iterable[str],
    timings: Mapping[str, float] | None = None,
    kind: str = "scan",
) -> Report:
    ordered = sorted(
        (ReportFinding.from_finding(f) for f in findings),
        key=lambda f: (-severity_rank(f.severity), f.rule_id, f.resource, f.message),
    )
    return Report(
        generated_at=generated_at,
        target=target,
        complete=not errors,
        errors=tuple(errors),
        findings=tuple(ordered),
        undetermined=tuple(undetermined),
        inventory=inventory,
        rules_evaluated=tuple(rules_evaluated),
        timings=dict(timings or {}),
        kind=kind,
    )


def _image_json(image: Image) -> dict[str, Any]:
    out: dict[str, Any] = {
        "package": image.package,
        "digest": image.digest,
        "tags": sorted(image.tags),
        "size_bytes": image.size_bytes,
        "uploaded": image.uploaded.isoformat() if image.uploaded else None,
    }
    if image.metadata is not None:  # read for released versions only
        out["metadata"] = _metadata_json(image.metadata)
    return out


def _metadata_json(metadata: ImageMetadata) -> dict[str, Any]:
    model = metadata.model
    return {
        "labels": dict(metadata.labels),
        "annotations": dict(metadata.annotations),
        "model": None if model is None else {key: value for key, value in asdict(model).items() if value is not None},
        "problem": metadata.problem,
    }


def _repository_json(repo: Repository) -> dict[str, Any]:
    policies: Any = repo.cleanup_policies
    return {
        "format": _plain(repo.format),
        "mode": _plain(repo.mode),
        "immutable_tags": _plain(repo.immutable_tags),
        "cleanup_policies": None if is_unknown(policies) else [_jsonable(p) for p in policies],
        "cleanup_dry_run": _plain(repo.cleanup_dry_run),
        "vulnerability_scanning": _plain(repo.scanning),
        "kms_key_name": _plain(repo.kms_key_name),
        "labels": None if is_unknown(repo.labels) else dict(repo.labels),  # type: ignore[arg-type,unused-ignore]
    }


def _plain(value: Any) -> Any:
    return None if is_unknown(value) else value


def _jsonable(value: Any) -> Any:
    """Evidence and settings to plain JSON values (dataclasses, tuples, datetimes, UNKNOWN)."""
    # Fast path for the exact built-in types, which are most of a report (the inventory of every
    # image): the general checks below cost more than the copy itself. Same results as below.
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is dict:
        return {str(k): _jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_jsonable(v) for v in value]
    if is_unknown(value):
        return None
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def report_from_json(document: Mapping[str, Any]) -> Report:
    """A saved (schema-valid) JSON report back into a `Report`, to re-render it without scanning.

    It is read as consistent or not at all: a report that says `complete: true` beside read errors is
    incomplete (nothing it did not read may be called compliant); a date that does not exist is a
    ValueError naming the field."""
    errors = tuple(ScanError(e["source"], e["target"], e["message"]) for e in document["errors"])
    for field_name, value in [("generated_at", document["generated_at"])] + [
            (f"waivers[{i}].expires", w["expires"]) for i, w in enumerate(document.get("waivers", ()))]:
        try:
            (datetime if field_name == "generated_at" else date).fromisoformat(value)
        except ValueError:
            raise ValueError(f"{field_name} is not a valid date") from None
    return Report(
        generated_at=datetime.fromisoformat(document["generated_at"]),
        target=document["target"],
        complete=bool(document["complete"]) and not errors,
        errors=errors,
        findings=tuple(finding_from_json(f) for f in document["findings"]),
        undetermined=tuple(Undetermined(u["rule_id"], u["resource"], u["reason"]) for u in document["undetermined"]),
        inventory=document["inventory"],
        rules_evaluated=tuple(document["rules_evaluated"]),
        timings=document.get("timings", {}),
        kind=document["kind"],
        history=document.get("history", {}),
        waivers=tuple(_waiver_from_json(w) for w in document.get("waivers", ())),
        resolved=tuple(finding_from_json(f) for f in document.get("resolved", ())),
        access=document.get("access"),
        releases=document.get("releases"),
    )


def _waiver_from_json(w: Mapping[str, Any]) -> Waiver:
    return Waiver(w["rule_id"], w["resource"], w["justification"], w["owner"], w["expires"], w["status"],
                  w.get("matched", 0))


def finding_from_json(f: Mapping[str, Any]) -> ReportFinding:
    return ReportFinding(
        f["rule_id"], f["title"], f["severity"], f["resource"], f["message"], tuple(f["remediation"]),
        tuple(f["frameworks"]), f["evidence"], f.get("source_location"),
        _waiver_from_json(f["waiver"]) if f.get("waiver") else None, f.get("trend"),
    )
