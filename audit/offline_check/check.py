"""The offline policy check: run a Pulumi program under mocks and judge what it declares with the real pack.

Why: without the Pulumi CLI or a cloud, this is still the same verdict `pulumi preview --policy-pack`
gives, because the declared resources go to the pack process over gRPC exactly as the engine sends them.
The CLI (`python -m audit check`) and the report formats wrap `run_offline_check`; they live elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import grpc
from registry_guard.catalogue.findings import Finding

from .analyzer import PolicyPackClient, Remediation, Resource, Violation

DEFAULT_PACK_DIR = Path(__file__).resolve().parents[2] / "policy-pack"


@dataclass(frozen=True)
class CheckResult:
    """What the pack said about one program. `findings` holds every violation the pack reported,
    including the advisory "could not judge" ones (evidence `undetermined: true`): nothing unknown passes
    silently."""

    findings: tuple[Finding, ...]
    violations: tuple[Violation, ...]
    remediations: tuple[Remediation, ...]
    resources_checked: int
    policy_pack: str
    pack_start_seconds: float | None
    stack_urn: str = ""
    # URN -> where the program declared the resource ("model_registry/component.py#88")
    source_positions: Mapping[str, str] = field(default_factory=dict)
    # The policies that ran: every policy of the pack not disabled by the pack config.
    policies_evaluated: tuple[str, ...] = ()

    @property
    def mandatory(self) -> tuple[Finding, ...]:
        """Findings that would block `pulumi up`."""
        return tuple(f for f in self.findings if f.evidence.get("enforcementLevel") == "mandatory")

    @property
    def undetermined(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.evidence.get("undetermined"))


def to_finding(violation: Violation) -> Finding:
    evidence: dict[str, Any] = {
        "enforcementLevel": violation.enforcement_level,
        "policyPack": violation.policy_pack,
    }
    if violation.undetermined:
        evidence["undetermined"] = True
    return Finding(
        rule_id=violation.policy_name, resource=violation.urn, message=violation.message, evidence=evidence
    )


def program_file(program_dir: str | Path) -> Path:
    """The program's entry file: `program_dir` itself when it is a file, else its `__main__.py`."""
    path = Path(program_dir)
    return path if path.is_file() else path / "__main__.py"


def project_name(program: Path) -> str:
    """The project name from Pulumi.yaml, as the CLI would use it for URNs and config keys. A Pulumi.yaml
    that is not YAML, or whose `name` is not text, is a ValueError naming the file."""
    from ..input_files import load_document

    pulumi_yaml = program.parent / "Pulumi.yaml"
    if pulumi_yaml.is_file():
        document = load_document(pulumi_yaml, "yaml", ValueError)
        if isinstance(document, dict) and "name" in document:
            if not isinstance(document["name"], str) or not document["name"]:
                raise ValueError(f"{pulumi_yaml}: `name` must be the project's name (text)")
            return str(document["name"])
    return "model-registry"


class PackCallError(RuntimeError):
    """The pack process stopped answering (it hung past the call timeout, or died after printing its port):
    one line naming the call and gRPC's status."""


def run_offline_check(
    program_dir: str | Path,
    stack_config: Mapping[str, str],
    pack_dir: str | Path | None = None,
    pack_config: Mapping[str, Any] | None = None,
    *,
    stack: str = "dev",
    python: str | None = None,
    call_timeout: float = 60.0,
) -> CheckResult:
    """Run the program under mocks, then Remediate+Analyze every declared resource and AnalyzeStack them all.

    Raises `audit.sources.stack_program.StackProgramError` when the program fails,
    `analyzer.PolicyConfigError` for a bad `pack_config`, `analyzer.PackStartError` when the pack
    does not start and `PackCallError` when it stops answering (each call may take `call_timeout` seconds).
    """
    # Imported here: the stack runner pulls in the Pulumi runtime, which callers of to_finding do not need.
    from audit.sources.stack_program import run_stack_program

    program = program_file(program_dir)
    project = project_name(program)
    run = run_stack_program(program, stack_config, project=project, stack=stack)
    positions = {r.urn: r.source_position for r in run.resources if r.source_position}
    resources = [
        Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            properties=dict(r.inputs),
            parent=r.parent or "",
            dependencies=tuple(r.dependencies),
            property_dependencies={k: tuple(v) for k, v in r.property_dependencies.items()},
        )
        for r in run.resources
    ]
    with PolicyPackClient(
        pack_dir or DEFAULT_PACK_DIR, python=python, project=project, stack=stack, stack_config=stack_config,
        call_timeout=call_timeout,
    ) as client:
        step = "GetAnalyzerInfo"
        try:
            info = client.info()
            step = "Configure"
            resolved = client.configure(pack_config)
            step = "Analyze"
            violations, remediations = client.check(resources, stack_urn=run.stack_urn)
        except grpc.RpcError as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else None
            said = "no answer within the call timeout" if code == grpc.StatusCode.DEADLINE_EXCEEDED else (
                f"{code.name if code else 'error'}: {(exc.details() if isinstance(exc, grpc.Call) else '') or ''}")
            raise PackCallError(f"policy pack {client.pack_dir}: {step} failed ({said.splitlines()[0][:200]})"
                                .replace(": )", ")")) from None
        start_seconds = client.start_seconds
    return CheckResult(
        findings=tuple(replace(to_finding(v), source_location=positions.get(v.urn)) for v in violations),
        violations=violations,
        remediations=remediations,
        resources_checked=len(resources),
        policy_pack=info.name,
        pack_start_seconds=start_seconds,
        stack_urn=run.stack_urn,
        source_positions=positions,
        policies_evaluated=tuple(name for name, (level, _) in resolved.items() if level != "disabled"),
    )
