"""SARIF 2.1.0 for GitHub code scanning.

GitHub needs at least one physical location per result, but most findings are about live cloud
resources with no source file. Those point at the stack's `Pulumi.yaml` (line 1) and carry the
resource as a logical location, so the alert stays stable and still names what is wrong. A `check`
finding whose value was set in the stack config points at that line of `Pulumi.<stack>.yaml` (the
value's region), with the line that declares the resource as a related location. `--sarif-path-prefix`
turns program-relative paths into repository-relative ones for a stack below the repository's root.

`automationDetails.id` carries the run's category: GitHub keeps one set of alerts per category, and
upload-sarif sets its own only when the file has none, so the category is derived from what was scanned
(project and location, buckets, registries, shard; the stack for a check) unless `--sarif-category` names
one. Two stacks or two registries uploaded from one repository then never close each other's alerts.

Results are ordered most severe first. GitHub rejects a run with more than 25,000 results, so beyond
that the least severe are left out, and the file says how many in a tool execution notification.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, timedelta
from typing import Any

from registry_guard.catalogue.rule import Rule, all_rules
from registry_guard.catalogue.severity import is_severity, severity_rank

from .. import __version__
from ..report import Report, ReportFinding
from .options import DEFAULT, RenderOptions

NAME = "sarif"
SUFFIX = ".sarif"

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/model-registry-guard/model-registry-guard"
FINGERPRINT_KEY = "registryGuard/v1"
# Where findings without a source position point: the stack's project file.
FALLBACK_URI = "Pulumi.yaml"
# GitHub code scanning's hard limit of results per run: a run above it is rejected whole
# (https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit).
MAX_RESULTS = 25_000
TRUNCATED_ID = "results-truncated"

# GitHub maps security-severity > 9.0 critical, 7-8.9 high, 4-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
BASELINE = {"new": "new", "still-open": "unchanged"}

_LOCATION = re.compile(r"^(?:project:///)?(?P<path>[^#]+?)(?:#(?P<line>\d+)(?:,(?P<col>\d+))?)?$")
CATEGORY_PREFIX = "model-registry-guard"
_CATEGORY_UNSAFE = re.compile(r"[^A-Za-z0-9._:@+=/-]+|/{2,}")
_CATEGORY_LIMIT = 180


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    remediation = "\n".join(f"- {step}" for step in rule.remediation)
    frameworks = "\n".join(
        f"- {f.name} {f.version}: {f.reference}" + (f" ({f.title})" if f.title else "") for f in rule.frameworks
    )
    text = [rule.description, "", "Remediation:", *(f"- {step}" for step in rule.remediation)]
    markdown = [f"**{rule.title}** ({rule.severity})", "", rule.description, "", "**Remediation**", "", remediation]
    if rule.frameworks:
        text += ["", "Frameworks:", *(f"- {f}" for f in rule.frameworks)]
        markdown += ["", "**Frameworks**", "", frameworks]
    if rule.url:
        markdown += ["", f"[Documentation]({rule.url})"]
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {"text": "\n".join(text), "markdown": "\n".join(markdown)},
        "defaultConfiguration": {"level": LEVEL.get(rule.severity, "warning")},
        "properties": {
            "security-severity": SECURITY_SEVERITY.get(rule.severity, "5.5"),
            "precision": "very-high",  # rules judge observed settings, not heuristics
            "problem.severity": "error" if rule.severity in ("critical", "high") else "warning",
            "tags": ["security", "compliance", *sorted(rule.where), *(f.reference for f in rule.frameworks)],
        },
    }
    if rule.url:
        descriptor["helpUri"] = rule.url
    return descriptor


def _unknown_rule(finding: ReportFinding) -> dict[str, Any]:
    """A rule the catalogue no longer has (an old saved report): described from the finding itself."""
    return {
        "id": finding.rule_id,
        "shortDescription": {"text": finding.title or finding.rule_id},
        "fullDescription": {"text": finding.title or finding.rule_id},
        "help": {"text": "\n".join(finding.remediation) or finding.title,
                 "markdown": "\n".join(f"- {s}" for s in finding.remediation) or finding.title},
        "defaultConfiguration": {"level": LEVEL.get(finding.severity, "warning")},
        "properties": {"security-severity": SECURITY_SEVERITY.get(finding.severity, "5.5"),
                       "tags": ["security", "compliance"]},
    }


def physical_location(source_location: str | None, options: RenderOptions = DEFAULT) -> dict[str, Any]:
    """`__main__.py#42` (or `project:///__main__.py#42,1`) to a SARIF physical location."""
    match = _LOCATION.match(source_location or "")
    if not match:
        return {"artifactLocation": {"uri": options.repository_path(FALLBACK_URI)}, "region": {"startLine": 1}}
    region: dict[str, int] = {"startLine": max(1, int(match["line"] or 1))}
    if match["col"]:
        region["startColumn"] = max(1, int(match["col"]))
    return {"artifactLocation": {"uri": options.repository_path(match["path"])}, "region": region}


def config_location(evidence: Mapping[str, Any], options: RenderOptions = DEFAULT) -> dict[str, Any] | None:
    """The stack config line that set the violating value (a check's `stack_config` evidence), with the
    value's region; None when no config line set it."""
    where = evidence.get("stack_config")
    # A file outside the program's folder and the working directory has no place in the repository.
    if not isinstance(where, Mapping) or not isinstance(where.get("file"), str) or where["file"].startswith("/"):
        return None
    region: dict[str, int] = {}
    for key, name in (("line", "startLine"), ("column", "startColumn"), ("end_line", "endLine"),
                      ("end_column", "endColumn")):
        value = where.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            region[name] = value
    if "startLine" not in region:
        return None
    return {"artifactLocation": {"uri": options.repository_path(where["file"])}, "region": region}


def category(report: Report) -> str:
    """What was scanned, as a code scanning category: `model-registry-guard/audit/<targets>[/shard-I-of-N]`
    for a scan or a merge (the same alerts either way), `model-registry-guard/check/<stack>[/<program>]`."""
    target = report.target
    if report.kind == "check":
        parts = [str(target.get("stack") or "stack")]
        program = str(target.get("program") or ".")
        if program not in (".", "./"):
            parts.append(program)
        return _category("check", parts)
    parts = []
    ar = target.get("artifact_registry")
    if isinstance(ar, Mapping):
        repos = ar.get("repositories")
        parts.append(f"ar:{ar.get('project')}/{ar.get('location')}"
                     + (f"/{','.join(map(str, repos))}" if isinstance(repos, list) and repos else ""))
    parts += [f"gcr:{bucket}" for bucket in target.get("gcr_buckets") or ()]
    for registry in target.get("registries") or ():
        url = registry.get("url") if isinstance(registry, Mapping) else registry
        parts.append(f"oci:{str(url).split('://', 1)[-1].rstrip('/')}")
    name = "+".join(sorted(parts)) or "unknown-target"
    shard = target.get("shard")
    suffix = [f"shard-{shard.get('index')}-of-{shard.get('count')}"] if isinstance(shard, Mapping) else []
    return _category("audit", [name, *suffix])


def _category(kind: str, parts: Sequence[str]) -> str:
    text = "/".join(_CATEGORY_UNSAFE.sub("-", part).strip("-/") or "-" for part in parts)
    if len(text) > _CATEGORY_LIMIT:  # long lists of buckets: keep it readable and still distinct
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        text = f"{text[:_CATEGORY_LIMIT - 17]}~{digest}"
    return f"{CATEGORY_PREFIX}/{kind}/{text}"


def _result(finding: ReportFinding, rule_index: int, options: RenderOptions = DEFAULT) -> dict[str, Any]:
    message = finding.message
    if finding.source_location is None:
        message = f"{message} (resource: {finding.resource})"
    declared = physical_location(finding.source_location, options)
    configured = config_location(finding.evidence, options)
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL.get(finding.severity, "warning"),
        "message": {"text": message},
        "locations": [{
            "physicalLocation": configured or declared,
            "logicalLocations": [{"name": finding.resource, "fullyQualifiedName": finding.resource,
                                  "kind": "resource"}],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "severity": finding.severity,
            "resource": finding.resource,
            "frameworks": list(finding.frameworks),
        },
    }
    if configured is not None and finding.source_location is not None:
        result["relatedLocations"] = [{"id": 1, "physicalLocation": declared,
                                       "message": {"text": "the resource is declared here"}}]
    if finding.trend in BASELINE:
        result["baselineState"] = BASELINE[finding.trend]
    if finding.waiver is not None:
        w = finding.waiver
        result["suppressions"] = [{
            "kind": "external",
            "status": "accepted",
            "justification": f"{w.justification} (owner {w.owner}, expires {w.expires})",
            "properties": {"owner": w.owner, "expires": w.expires, "resource": w.resource},
        }]
    return result


def _ranked(findings: Sequence[ReportFinding]) -> list[ReportFinding]:
    """Most severe first, unwaived before waived; otherwise report order (a stable sort: deterministic).
    A severity the catalogue does not know ranks as medium, as its security-severity does."""
    medium = severity_rank("medium")
    return sorted(findings, key=lambda f: (-(severity_rank(f.severity) if is_severity(f.severity) else medium),
                                           f.waived))


def _truncation_notice(omitted: Sequence[ReportFinding], total: int, max_results: int) -> dict[str, Any]:
    by_severity = Counter(f.severity for f in omitted)
    counts = ", ".join(f"{n} {severity}" for severity, n in by_severity.items())
    return {
        "level": "warning",
        "message": {"text": f"{len(omitted)} of {total} findings are left out of this SARIF file ({counts}): "
                            f"GitHub code scanning accepts at most {max_results} results per run, so the "
                            f"{max_results} most severe are kept. The JSON report has every finding."},
        "descriptor": {"id": TRUNCATED_ID},
        "properties": {"resultsTotal": total, "resultsOmitted": len(omitted), "maxResults": max_results,
                       "omittedBySeverity": dict(by_severity)},
    }


def to_sarif(report: Report, max_results: int = MAX_RESULTS, options: RenderOptions = DEFAULT) -> dict[str, Any]:
    if max_results < 0:
        raise ValueError(f"max_results must be >= 0, not {max_results}")
    ranked = _ranked(report.findings)
    kept, omitted = ranked[:max_results], ranked[max_results:]
    descriptors = [_rule_descriptor(rule) for rule in all_rules().values()]
    index = {rule_id: i for i, rule_id in enumerate(all_rules())}
    for finding in report.findings:
        if finding.rule_id not in index:
            index[finding.rule_id] = len(descriptors)
            descriptors.append(_unknown_rule(finding))

    end = report.generated_at if report.generated_at.tzinfo else report.generated_at.replace(tzinfo=UTC)
    start = end - timedelta(seconds=float(report.timings.get("total", 0.0)))
    invocation: dict[str, Any] = {
        "executionSuccessful": report.complete,
        "startTimeUtc": _utc(start),
        "endTimeUtc": _utc(end),
        "toolExecutionNotifications": [
            {"level": "error", "message": {"text": f"{e.source}: could not read {e.target}: {e.message}"},
             "descriptor": {"id": f"scan-error/{e.source}"}, "properties": {"source": e.source, "target": e.target}}
            for e in report.errors
        ],
    }
    if omitted:
        # Not an execution failure: executionSuccessful still says only whether the scan read everything.
        invocation["toolExecutionNotifications"].append(_truncation_notice(omitted, len(ranked), max_results))
    summary = report.summary()
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "model-registry-guard",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": descriptors,
        }},
        # A trailing slash: the whole id is the category (GitHub reads `category/run-id`).
        "automationDetails": {"id": f"{(options.sarif_category or category(report)).rstrip('/')}/"},
        "invocations": [invocation],
        "results": [_result(f, index[f.rule_id], options) for f in kept],
        "properties": {
            "status": summary["status"],
            "complete": report.complete,
            "resultsOmitted": len(omitted),
            "target": report.target,
            "rulesEvaluated": list(report.rules_evaluated),
            "resolved": [{"ruleId": f.rule_id, "resource": f.resource, "fingerprint": f.fingerprint}
                         for f in report.resolved],
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _utc(moment: Any) -> str:
    return str(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def render(report: Report, max_results: int = MAX_RESULTS, *, options: RenderOptions = DEFAULT) -> str:
    return json.dumps(to_sarif(report, max_results, options), indent=2, default=str) + "\n"
