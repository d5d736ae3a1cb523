"""A client for a policy pack that starts and drives it exactly as the Pulumi engine does.

Why not import the policies: the offline check must judge with the very process `pulumi preview
--policy-pack` would run (same `python -u -m pulumi.policy <engineAddr> <packdir>`, same env, same gRPC
calls and order), so a pack that starts, configures or serializes differently fails here too.

Call order (pkg/engine `LoadLocalPolicyPackAnalyzers` and the step generator): GetAnalyzerInfo, Configure
with the schema defaults applied and the user's config validated, then per resource Remediate and Analyze
on the remediated properties, and AnalyzeStack once at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

ENFORCEMENT_LEVELS: Final = ("advisory", "mandatory", "remediate", "disabled")
_LEVEL_TO_PROTO: Final = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
_SEVERITY: Final = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
# The SDK's prefix for a policy that hit a preview-time unknown (our pack's "could not judge" too).
UNDETERMINED_PREFIX: Final = "can't run policy"


class PackStartError(RuntimeError):
    """The pack process did not print a port: the message is the last line it wrote to stderr."""


class PolicyConfigError(ValueError):
    """The policy pack config does not fit a policy's schema; one line naming the policy and key."""


def level_name(value: int) -> str:
    """Enforcement level from its proto number. Read numerically on purpose: MessageToDict drops
    ADVISORY because it is the proto3 default (0)."""
    return str(analyzer_pb2.EnforcementLevel.Name(value)).lower()


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    display_name: str
    description: str
    enforcement_level: str
    severity: str
    policy_type: str  # "resource" | "stack"
    config_schema: Mapping[str, Any]  # {"properties": {...}, "required": [...]}
    framework: Mapping[str, str]
    tags: tuple[str, ...]
    remediation_steps: str
    url: str


@dataclass(frozen=True)
class AnalyzerInfo:
    name: str
    version: str
    description: str
    policies: tuple[PolicyInfo, ...]
    initial_config: Mapping[str, Mapping[str, Any]]

    def policy(self, name: str) -> PolicyInfo:
        for candidate in self.policies:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


@dataclass(frozen=True)
class Violation:
    policy_name: str
    policy_pack: str
    enforcement_level: str
    severity: str
    message: str  # the policy's own message, without the description the SDK prefixes
    urn: str
    description: str = ""

    @property
    def undetermined(self) -> bool:
        return self.message.startswith(UNDETERMINED_PREFIX)


@dataclass(frozen=True)
class Remediation:
    policy_name: str
    urn: str
    properties: Mapping[str, Any] | None
    diagnostic: str = ""


@dataclass(frozen=True)
class Resource:
    """One resource as the engine describes it to an analyzer (properties use wire names)."""

    type: str
    name: str
    urn: str
    properties: Mapping[str, Any]
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    protect: bool = False


def _struct(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    # JSON round trip: tuples, ints and odd scalars become what Struct carries (as the engine marshals).
    struct.update(json.loads(json.dumps(dict(properties), default=str)))
    return struct


def _options(resource: Resource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(protect=resource.protect, parent=resource.parent)


def _policy_info(info: Any) -> PolicyInfo:
    schema: dict[str, Any] = {}
    if info.HasField("configSchema"):
        schema = {
            "properties": json_format.MessageToDict(info.configSchema.properties),
            "required": list(info.configSchema.required),
        }
    return PolicyInfo(
        name=info.name,
        display_name=info.displayName,
        description=info.description,
        enforcement_level=level_name(info.enforcementLevel),
        severity=_SEVERITY.get(info.severity, ""),
        policy_type="stack" if info.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
        config_schema=schema,
        framework={k: getattr(info.framework, k) for k in ("name", "version", "reference", "specification")},
        tags=tuple(info.tags),
        remediation_steps=info.remediation_steps,
        url=info.url,
    )


def resolve_config(
    info: AnalyzerInfo, user_config: Mapping[str, Any] | None
) -> dict[str, tuple[str, dict[str, Any]]]:
    """What the engine's ReconcilePolicyPackConfig does: policy -> (level, properties with defaults).

    Accepts the `--policy-pack-config` file's shapes: `{"all": "mandatory"}`, `{"<policy>": "advisory"}`,
    `{"<policy>": {"enforcementLevel": ..., "<key>": ...}}`. Stricter than the engine on one point: an
    unknown policy or key is an error, since a typo would otherwise silently keep the default.
    """
    user = dict(user_config or {})
    known = {p.name for p in info.policies}
    for name in user:
        if name != "all" and name not in known:
            raise PolicyConfigError(
                f"policy pack config: no policy named {name!r} in {info.name} "
                f"(policies: {', '.join(sorted(known))})"
            )

    def level_of(name: str, value: Any) -> str | None:
        level = value.get("enforcementLevel") if isinstance(value, Mapping) else value
        if level is None:
            return None
        if level not in ENFORCEMENT_LEVELS:
            raise PolicyConfigError(
                f"policy pack config: policy {name!r}, key 'enforcementLevel': "
                f"{level!r} is not one of {', '.join(ENFORCEMENT_LEVELS)}"
            )
        return str(level)

    all_level = level_of("all", user["all"]) if "all" in user else None
    resolved: dict[str, tuple[str, dict[str, Any]]] = {}
    for policy in info.policies:
        initial = dict(info.initial_config.get(policy.name, {}))
        raw = user.get(policy.name)
        if raw is not None and not isinstance(raw, str | Mapping):
            raise PolicyConfigError(
                f"policy pack config: policy {policy.name!r}: expected an enforcement level "
                f"or an object, got {raw!r}"
            )
        level = (
            level_of(policy.name, raw)
            or all_level
            or initial.pop("enforcementLevel", None)
            or policy.enforcement_level
        )
        initial.pop("enforcementLevel", None)
        properties_schema: Mapping[str, Any] = policy.config_schema.get("properties", {})
        properties = {key: spec["default"] for key, spec in properties_schema.items() if "default" in spec}
        properties.update(initial)
        if isinstance(raw, Mapping):
            properties.update({k: v for k, v in raw.items() if k != "enforcementLevel"})
        for key in properties:
            if key not in properties_schema:
                allowed = ", ".join(sorted(properties_schema)) or "only enforcementLevel"
                raise PolicyConfigError(
                    f"policy pack config: policy {policy.name!r}, key {key!r}: unknown "
                    f"setting (allowed: {allowed})"
                )
        schema = {
            "type": "object",
            "properties": dict(properties_schema),
            "required": list(policy.config_schema.get("required", [])),
        }
        validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
        errors = sorted(validator.iter_errors(properties), key=lambda e: list(e.absolute_path))
        if errors:
            error = errors[0]
            key = ".".join(str(p) for p in error.absolute_path) or "(config)"
            raise PolicyConfigError(
                f"policy pack config: policy {policy.name!r}, key {key!r}: {error.message}"
            )
        resolved[policy.name] = (str(level), properties)
    return resolved


class PolicyPackClient:
    """Runs one policy pack process and speaks pulumirpc.Analyzer to it. Use as a context manager."""

    def __init__(
        self,
        pack_dir: str | Path,
        *,
        python: str | None = None,
        project: str = "offline-check",
        stack: str = "offline",
        organization: str = "organization",
        dry_run: bool = True,
        stack_config: Mapping[str, str] | None = None,
        start_timeout: float = 60.0,
        call_timeout: float = 60.0,
    ) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.python = python or sys.executable
        self.env = {
            **os.environ,
            "PULUMI_PROJECT": project,
            "PULUMI_STACK": stack,
            "PULUMI_DRY_RUN": "true" if dry_run else "false",
            "PULUMI_ORGANIZATION": organization,
            "PULUMI_CONFIG": json.dumps(dict(stack_config or {})),
        }
        self.start_timeout = start_timeout
        self.call_timeout = call_timeout
        self.start_seconds: float | None = None
        self.port: int | None = None  # the pack's gRPC port on 127.0.0.1 while it runs
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._info: AnalyzerInfo | None = None

    # --- process -----------------------------------------------------------------------------------------

    def start(self) -> PolicyPackClient:
        # stderr goes to a file, not a pipe: a chatty pack must never block on a full pipe.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; close() ends it
        started = time.monotonic()
        self._process = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(self.pack_dir)],
            cwd=self.pack_dir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        line = self._read_port_line(started)
        try:
            port = int(line.strip())
        except ValueError:
            # A pack that printed something else usually exits right after, with its reason on stderr;
            # give it a moment so the message names that reason, not just the stray line.
            assert self._process is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=2)
            message = self._startup_message(f"first stdout line is not a port: {line!r}")
            self.close()
            raise PackStartError(message) from None
        self.start_seconds = time.monotonic() - started
        self.port = port
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        return self

    def _read_port_line(self, started: float) -> str:
        assert self._process is not None and self._process.stdout is not None
        fd = self._process.stdout.fileno()
        data = b""
        while not data.endswith(b"\n"):
            remaining = self.start_timeout - (time.monotonic() - started)
            if remaining <= 0:
                message = self._startup_message(f"no port after {self.start_timeout:.0f}s")
                self.close()
                raise PackStartError(message)
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1)
            if not chunk:  # EOF: the pack exited (or closed stdout) without a port
                self._process.wait(timeout=5)
                code = self._process.returncode
                message = self._startup_message(f"exited with code {code} before printing a port")
                self.close()
                raise PackStartError(message)
            data += chunk
        return data.decode(errors="replace")

    def _startup_message(self, fallback: str) -> str:
        lines = [ln for ln in self._stderr_text().splitlines() if ln.strip()]
        return f"policy pack {self.pack_dir} failed to start: {lines[-1].strip() if lines else fallback}"

    def _stderr_text(self) -> str:
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return str(self._stderr.read().decode(errors="replace"))

    def close(self) -> None:
        """Terminate, then kill: the pack's server loop sleeps forever and never exits by itself."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(timeout=5)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        self.port = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> PolicyPackClient:
        return self.start() if self._process is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            raise RuntimeError("the policy pack is not running; call start() or use `with`")
        return self._stub

    # --- RPCs ----------------------------------------------------------------------------------------------

    def info(self) -> AnalyzerInfo:
        if self._info is None:
            raw = self.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=self.call_timeout)
            initial: dict[str, dict[str, Any]] = {}
            for name, config in raw.initialConfig.items():
                entry = json_format.MessageToDict(config.properties)
                entry["enforcementLevel"] = level_name(config.enforcementLevel)
                initial[name] = entry
            self._info = AnalyzerInfo(
                raw.name, raw.version, raw.description, tuple(_policy_info(p) for p in raw.policies), initial
            )
        return self._info

    def configure(
        self, user_config: Mapping[str, Any] | None = None
    ) -> dict[str, tuple[str, dict[str, Any]]]:
        """Validate `user_config` (the --policy-pack-config JSON) and send Configure with defaults applied."""
        resolved = resolve_config(self.info(), user_config)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, properties) in resolved.items():
            config = request.policyConfig[name]
            config.enforcementLevel = _LEVEL_TO_PROTO[level]
            config.properties.CopyFrom(_struct(properties))
        self.stub.Configure(request, timeout=self.call_timeout)
        return resolved

    @property
    def pid(self) -> int | None:
        """The pack process's id while it runs (benchmarks read its CPU time)."""
        return self._process.pid if self._process is not None else None

    def request(
        self, resource: Resource, properties: Mapping[str, Any] | None = None
    ) -> analyzer_pb2.AnalyzeRequest:
        """The Remediate/Analyze request the engine sends for `resource` (with `properties` if given)."""
        return analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            properties=_struct(resource.properties if properties is None else properties),
            urn=resource.urn,
            name=resource.name,
            options=_options(resource),
        )

    def remediate(self, resource: Resource) -> tuple[Remediation, ...]:
        response = self.stub.Remediate(self.request(resource), timeout=self.call_timeout)
        return tuple(
            Remediation(
                r.policyName,
                resource.urn,
                json_format.MessageToDict(r.properties) if r.HasField("properties") else None,
                r.diagnostic,
            )
            for r in response.remediations
        )

    def _violations(self, response: Any, default_urn: str) -> tuple[Violation, ...]:
        out = []
        for d in response.diagnostics:
            message = d.message
            if d.description and message.startswith(d.description + "\n"):
                message = message[len(d.description) + 1 :]
            elif message == d.description:
                message = ""
            out.append(
                Violation(
                    d.policyName,
                    d.policyPackName,
                    level_name(d.enforcementLevel),
                    _SEVERITY.get(d.severity, ""),
                    message,
                    d.urn or default_urn,
                    d.description,
                )
            )
        return tuple(out)

    def analyze(
        self, resource: Resource, properties: Mapping[str, Any] | None = None
    ) -> tuple[Violation, ...]:
        response = self.stub.Analyze(self.request(resource, properties), timeout=self.call_timeout)
        return self._violations(response, resource.urn)

    def analyze_stack(self, resources: Sequence[Resource], stack_urn: str = "") -> tuple[Violation, ...]:
        response = self.stub.AnalyzeStack(self.stack_request(resources), timeout=self.call_timeout)
        return self._violations(response, stack_urn)

    @staticmethod
    def stack_request(resources: Sequence[Resource]) -> analyzer_pb2.AnalyzeStackRequest:
        """The AnalyzeStack request the engine sends once all resources are registered."""
        return analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    properties=_struct(r.properties),
                    urn=r.urn,
                    name=r.name,
                    options=_options(r),
                    parent=r.parent,
                    dependencies=list(r.dependencies),
                    propertyDependencies={
                        k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                        for k, v in r.property_dependencies.items()
                    },
                )
                for r in resources
            ]
        )

    def check(
        self, resources: Iterable[Resource], stack_urn: str = ""
    ) -> tuple[tuple[Violation, ...], tuple[Remediation, ...]]:
        """Engine order: Remediate then Analyze per resource (on remediated properties), AnalyzeStack last.

        One resource at a time, as the engine does: it asks analyzers while generating a resource's
        steps (`step_generator.go`), and the deployment executor handles one registration at a time,
        whatever `--parallel` says about executing the steps."""
        remediations: list[Remediation] = []
        violations: list[Violation] = []
        analyzed: list[Resource] = []
        for resource in resources:
            applied = self.remediate(resource)
            properties = dict(resource.properties)
            for remediation in applied:
                if remediation.properties is not None:
                    properties = dict(remediation.properties)
            remediations.extend(applied)
            violations.extend(self.analyze(resource, properties))
            analyzed.append(dataclasses.replace(resource, properties=properties))
        violations.extend(self.analyze_stack(analyzed, stack_urn))
        return tuple(violations), tuple(remediations)
