"""NIST OSCAL assessment-results, built and serialized with compliance-trestle's models.

Per finding: an observation (the evidence) naming its subject, the resource, as an inventory item of the
result's local definitions; a risk, `open`, or `deviation-approved` with the waiver's justification, owner
and expiry when a waiver covers it; and an OSCAL finding linking both. The reviewed controls are the
catalogue's framework references of the evaluated rules. The assessment plan (`import-ap`) is the rule
catalogue itself: a back-matter resource that lists the evaluated rules, so the reference resolves inside
the document. UUIDs are derived (uuid5) from the report so re-rendering the same report gives the same
document. trestle takes over a second to import, so it is imported only when this format is rendered.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from registry_guard.catalogue.frameworks import FrameworkRef
from registry_guard.catalogue.rule import all_rules

from .. import __version__
from ..report import Report, ReportFinding

if TYPE_CHECKING:
    from trestle.oscal.assessment_results import AssessmentResults

NAME = "oscal"
SUFFIX = ".oscal.json"

_NAMESPACE = uuid.UUID("5f1c3c52-1d8e-5d5a-9a51-6d6f64656c72")
# OSCAL props live in our own namespace so they never clash with NIST-defined names.
PROP_NS = "https://model-registry-guard.dev/ns/oscal"

# Short, token-safe prefixes for control ids (OSCAL tokens cannot start with a digit: "5.1" -> "cis-gcp-5.1").
_FRAMEWORK_PREFIX = {
    "CIS Google Cloud Platform Foundation Benchmark": "cis-gcp",
    "FINOS Common Cloud Controls": "ccc",
    "Google Security Command Center, Security Health Analytics": "gcp-sha",
}
_NOT_TOKEN = re.compile(r"[^A-Za-z0-9_.\-]+")


def control_id(ref: FrameworkRef) -> str:
    prefix = _FRAMEWORK_PREFIX.get(ref.name) or _NOT_TOKEN.sub("-", ref.name.lower()).strip("-.")
    token = f"{prefix}-{_NOT_TOKEN.sub('-', ref.reference)}".strip("-.")
    return token if token[:1].isalpha() or token[:1] == "_" else f"c-{token}"


def rule_objective_id(rule_id: str) -> str:
    """The target of a finding whose rule maps to no framework control: the rule itself."""
    return "registry-guard-" + _NOT_TOKEN.sub("-", rule_id)


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _value(text: Any) -> str:
    """A prop value: one line, no surrounding blanks (OSCAL's string pattern), never empty."""
    flat = " ".join(str(text).split())
    return flat or "-"


def _frameworks_of(rule_id: str) -> tuple[FrameworkRef, ...]:
    rule = all_rules().get(rule_id)
    return rule.frameworks if rule else ()


def reviewed_control_ids(rule_ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(control_id(ref) for rule_id in rule_ids for ref in _frameworks_of(rule_id)))


def _trestle() -> tuple[Any, Any, str]:
    """trestle's model modules, typed loosely: its models take snake_case field names that mypy only
    sees as aliases (`import-ap`) without the pydantic plugin; pydantic still validates every field."""
    from trestle.oscal import OSCAL_VERSION, assessment_results, common

    return assessment_results, common, OSCAL_VERSION


def _subject_kind(resource: str) -> str:
    """`repository:projects/...` -> repository; a URN -> its resource type."""
    if resource.startswith("urn:pulumi:") and "::" in resource:
        return resource.split("::")[-2].split("$")[-1]
    kind, sep, _ = resource.partition(":")
    return kind if sep and kind.isidentifier() else "resource"


def _deadline(expires: str) -> datetime | None:
    """A waiver's expiry date as the end of that day, UTC (the waiver still holds on that day)."""
    try:
        day = date.fromisoformat(expires)
    except ValueError:
        return None
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def to_model(report: Report) -> AssessmentResults:
    ar, common, oscal_version = _trestle()

    end = _aware(report.generated_at)
    start = end - timedelta(seconds=float(report.timings.get("total", 0.0)))
    summary = report.summary()
    seed = f"{end.isoformat()}|{report.kind}|{json.dumps(report.target, sort_keys=True, default=str)}"

    def prop(name: str, value: Any) -> Any:
        return common.Property(name=name, value=_value(value), ns=PROP_NS)

    # Every resource with a finding is an inventory item of this result: what the observations are about.
    subjects: dict[str, str] = {}
    for f in report.findings:
        subjects.setdefault(f.resource, _uuid(seed, "subject", f.resource))
    inventory = [common.InventoryItem(
        uuid=item_uuid, description=resource,
        props=[prop("resource", resource), prop("resource-kind", _subject_kind(resource))],
    ) for resource, item_uuid in subjects.items()]

    observations: list[Any] = []
    risks: list[Any] = []
    findings: list[Any] = []
    for position, f in enumerate(report.findings):
        obs_uuid = _uuid(seed, "observation", str(position), f.fingerprint)
        risk_uuid = _uuid(seed, "risk", str(position), f.fingerprint)
        evidence = [common.RelevantEvidence(
            description=f"{key}: {json.dumps(value, default=str)}") for key, value in sorted(f.evidence.items())]
        if f.source_location:
            evidence.append(common.RelevantEvidence(description=f"declared at {f.source_location}"))
        observations.append(ar.Observation(
            uuid=obs_uuid,
            title=_value(f"{f.rule_id} on {f.resource}"),
            description=f.message,
            props=[prop("rule-id", f.rule_id), prop("severity", f.severity), prop("resource", f.resource),
                   prop("fingerprint", f.fingerprint)],
            methods=["TEST"],  # an automated read of the live configuration
            types=["finding"],
            subjects=[common.SubjectReference(subject_uuid=subjects[f.resource], type="inventory-item",
                                              title=_value(f.resource))],
            relevant_evidence=evidence or None,
            collected=end,
        ))
        risks.append(_risk(f, risk_uuid, obs_uuid, seed, position, end, prop))
        findings.append(_finding(f, position, seed, obs_uuid, risk_uuid, prop))

    controls = reviewed_control_ids(report.rules_evaluated)
    selection: Any = (common.ControlSelections(
        description="Controls the evaluated rules map to in the rule catalogue.",
        include_controls=[common.SelectControlById(control_id=c) for c in controls],
    ) if controls else common.ControlSelectionsAll(include_all=common.IncludeAll()))

    remarks = None
    if report.errors:
        remarks = "Incomplete scan: " + "; ".join(f"{e.source} could not read {e.target}: {e.message}"
                                                  for e in report.errors)
    result = ar.Result(
        uuid=_uuid(seed, "result"),
        title=f"Model Registry Guard {report.kind}",
        description=(f"Registry audit of {_describe_target(report.target)}: {summary['status']}, "
                     f"{summary['total']} finding(s), {summary['errors']} read error(s)."),
        start=start,
        end=end,
        props=[prop("status", summary["status"]), prop("complete", str(report.complete).lower()),
               prop("rules-evaluated", " ".join(report.rules_evaluated) or "none"),
               *(prop(f"findings-{sev}", n) for sev, n in summary["by_severity"].items())],
        local_definitions=ar.LocalDefinitions1(inventory_items=inventory) if inventory else None,
        reviewed_controls=common.ReviewedControls(control_selections=[selection]),
        observations=observations or None,
        risks=risks or None,
        findings=findings or None,
        remarks=remarks,
    )
    plan = _assessment_plan(report, common)
    document: AssessmentResults = ar.AssessmentResults(
        uuid=_uuid(seed, "assessment-results"),
        metadata=common.Metadata(
            title=f"Model Registry Guard assessment results ({report.kind})",
            last_modified=end,
            version=__version__,
            oscal_version=common.OscalVersion(oscal_version),
        ),
        # There is no separate OSCAL assessment plan: the rule catalogue is the plan, in the back matter.
        import_ap=ar.ImportAp(href=f"#{plan.uuid}"),
        results=[result],
        back_matter=common.BackMatter(resources=[plan]),
    )
    return document


def _assessment_plan(report: Report, common: Any) -> Any:
    """The rule catalogue as the assessment plan: the evaluated rules (id, title, severity, where they run,
    framework references), embedded so `import-ap` resolves without anything outside the document."""
    rules = all_rules()
    listed = [{"id": rule_id, "title": rules[rule_id].title, "severity": rules[rule_id].severity,
               "where": list(rules[rule_id].where), "frameworks": [str(f) for f in rules[rule_id].frameworks]}
              for rule_id in report.rules_evaluated if rule_id in rules]
    body = json.dumps({"tool": "model-registry-guard", "version": __version__, "rules": listed}, indent=2)
    return common.Resource(
        uuid=_uuid("assessment-plan", __version__, *report.rules_evaluated),
        title="Model Registry Guard rule catalogue (the assessment plan)",
        description=(f"The {len(report.rules_evaluated)} rule(s) this assessment evaluated, from the rule "
                     f"catalogue of model-registry-guard {__version__}; docs/rules.md describes each."),
        rlinks=[common.Rlink(href="docs/rules.md", media_type="text/markdown")],
        base64=common.Base64(filename="rules-evaluated.json", media_type="application/json",
                             value=base64.b64encode(body.encode()).decode()),
    )


def _risk(f: ReportFinding, risk_uuid: str, obs_uuid: str, seed: str, position: int, end: datetime,
          prop: Any) -> Any:
    ar, common, _ = _trestle()
    description = f.message + ("\n\nRemediation:\n" + "\n".join(f"- {s}" for s in f.remediation)
                               if f.remediation else "")
    props = [prop("rule-id", f.rule_id), prop("severity", f.severity), prop("resource", f.resource)]
    risk: dict[str, Any] = {}
    if f.waiver is not None:
        w = f.waiver
        props += [prop("waiver-owner", w.owner), prop("waiver-expires", w.expires)]
        risk = {
            "status": common.RiskStatus("deviation-approved"),
            "deadline": _deadline(w.expires),
            "risk_log": common.RiskLog(entries=[common.Entry(
                uuid=_uuid(seed, "risk-log", str(position), f.fingerprint),
                title="Deviation approved (waiver)",
                description=f"Accepted by {w.owner} until {w.expires}: {w.justification}",
                start=end,
                status_change=common.RiskStatus("deviation-approved"),
                remarks=f"Waiver for {w.rule_id} on {w.resource}, as applied by this assessment.",
            )]),
        }
    else:
        risk = {"status": common.RiskStatus("open")}
    return common.Risk(
        uuid=risk_uuid,
        title=_value(f"{f.title}: {f.resource}"),
        description=description,
        statement=(f"Waived: {f.waiver.justification}" if f.waiver else
                   f"A {f.severity} finding of {f.rule_id} stays open until {f.resource} is fixed."),
        props=props,
        related_observations=[ar.RelatedObservation(observation_uuid=obs_uuid)],
        **risk,
    )


def _finding(f: ReportFinding, position: int, seed: str, obs_uuid: str, risk_uuid: str, prop: Any) -> Any:
    ar, common, _ = _trestle()

    refs = _frameworks_of(f.rule_id)
    target_id = control_id(refs[0]) if refs else rule_objective_id(f.rule_id)
    props = [prop("rule-id", f.rule_id), prop("severity", f.severity), prop("resource", f.resource),
             prop("waived", str(f.waived).lower())]
    props += [prop("control-id", control_id(r)) for r in refs[1:]]
    if f.trend:
        props.append(prop("trend", f.trend))
    remarks = None
    if f.waiver:
        remarks = (f"Waived until {f.waiver.expires} by {f.waiver.owner}: {f.waiver.justification}")
        props.append(prop("waiver-expires", f.waiver.expires))
    description = f.message + ("\n\nRemediation:\n" + "\n".join(f"- {s}" for s in f.remediation)
                               if f.remediation else "")
    return common.Finding(
        uuid=_uuid(seed, "finding", str(position), f.fingerprint),
        title=_value(f"{f.title}: {f.resource}"),
        description=description,
        props=props,
        target=common.FindingTarget(
            type=common.FindingTargetTypeValidValues.objective_id,
            target_id=target_id,
            title=_value(f.title),
            status=common.ObjectiveStatus(
                state=common.ObjectiveStatusStateValidValues.not_satisfied,
                reason="other" if f.waived else "fail",
            ),
        ),
        related_observations=[ar.RelatedObservation(observation_uuid=obs_uuid)],
        related_risks=[common.AssociatedRisk(risk_uuid=risk_uuid)],
        remarks=remarks,
    )


def _describe_target(target: Any) -> str:
    ar_target = target.get("artifact_registry") if isinstance(target, dict) else None
    if isinstance(ar_target, dict) and ar_target.get("project"):
        return f"project {ar_target['project']} ({ar_target.get('location', 'all locations')})"
    return "the configured registries"


def render(report: Report) -> str:
    return str(to_model(report).oscal_serialize_json(pretty=True)) + "\n"
