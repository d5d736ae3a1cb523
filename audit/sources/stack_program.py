"""Run a Pulumi program under mocks and capture what it declares, exactly as a policy would see it.

Why: there is no Pulumi CLI and no cloud here, yet the stack's tests and the offline policy check
both need the program's resources with their real wire-format inputs (camelCase, as CrossGuard's
`args.props`), parents, dependencies and exports. A `MockMonitor` subclass records every
RegisterResource request; the mocks answer with realistic computed outputs so programs that use
them (e.g. a bucket IAM grant on `registry.id`) see what a real deployment would give them.

Differences from a real preview, on purpose or unavoidable: inputs are the program's inputs before
the provider's Check (no provider-added defaults such as `effectiveLabels`), and nothing is unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import runpy
import sys
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
_RUN_LOCK = threading.Lock()  # the Pulumi runtime's settings are process-global


@dataclass(frozen=True)
class DeclaredResource:
    """One resource the program registered. `inputs` uses wire names (camelCase), the shape a policy
    receives; `parent`, `dependencies` and `property_dependencies` are URNs."""

    type: str
    name: str
    urn: str
    inputs: Mapping[str, Any]
    parent: str | None
    dependencies: tuple[str, ...]
    property_dependencies: Mapping[str, tuple[str, ...]]
    custom: bool
    # Where the program declared it, relative to the program's folder ("model_registry/component.py#88"),
    # from the SDK's own sourcePosition; None when the SDK sent none.
    source_position: str | None = None
    # What the mocks answered as its outputs: the state the provider would write after `pulumi up`.
    outputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackRun:
    """Everything one program run declared, in registration order."""

    project: str
    stack: str
    resources: tuple[DeclaredResource, ...]
    outputs: Mapping[str, Any]
    warnings: tuple[str, ...] = ()
    stack_urn: str = ""

    def of_type(self, type_token: str) -> tuple[DeclaredResource, ...]:
        return tuple(r for r in self.resources if r.type == type_token)

    def named(self, name: str) -> DeclaredResource:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def by_urn(self, urn: str) -> DeclaredResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)


class StackProgramError(Exception):
    """The program failed. `str()` is the program's own one-line message (e.g. a ConfigError's),
    `error_type` the exception class name; `declared` what the program registered before failing.
    The original exception is chained as `__cause__`."""

    def __init__(self, message: str, error_type: str, declared: tuple[DeclaredResource, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.declared = declared


def run_stack_program(
    program: Path,
    config: Mapping[str, str],
    *,
    project: str = "model-registry",
    stack: str = "dev",
) -> StackRun:
    """Run `program` (a Pulumi `__main__.py`) under mocks with `config` (`{"project:key": "value"}`,
    values as strings the way the CLI passes them) and return what it declared and exported.

    Safe to call repeatedly in one process: each run gets fresh settings, a fresh root stack and
    exactly the given config, and the previous config is restored afterwards.
    """
    program = Path(program).resolve()
    if not program.is_file():
        raise FileNotFoundError(program)
    gcp_project = config.get("gcp:project", "")
    mocks = _RealisticMocks(gcp_project)
    monitor = _CapturingMonitor(mocks, project, stack)
    monitor.program_dir = program.parent
    warnings: list[str] = []
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> pulumi.Output[Any]:
        runpy.run_path(str(program), run_name="__main__")
        root = runtime_settings.get_root_resource()
        exported: dict[str, Any] = dict(getattr(root, "outputs", {}) or {})
        # Returning the Output makes `test` wait until every export has resolved.
        return pulumi.Output.from_input(exported).apply(outputs.update)

    with _RUN_LOCK, _isolated_runtime(config, program.parent):
        # asyncio.run() elsewhere in the process (e.g. a registry scan) leaves no current loop behind,
        # and Pulumi's Outputs need one: give every run its own.
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        runtime_mocks.set_mocks(
            mocks,
            project=project,
            stack=stack,
            preview=False,
            logger=_WarningCollector(warnings),
            monitor=monitor,
        )
        try:
            run()
        except Exception as exc:  # the program's failure, reported as its own message
            raise StackProgramError(_one_line(exc), type(exc).__name__, tuple(monitor.captured)) from exc
        except SystemExit as exc:  # sys.exit() in a program must not end the caller's process
            message = f"program exited with status {exc.code}"
            raise StackProgramError(message, "SystemExit", tuple(monitor.captured)) from exc
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    return StackRun(
        project=project,
        stack=stack,
        resources=tuple(monitor.captured),
        outputs=_plain(outputs),
        warnings=tuple(warnings),
        stack_urn=monitor.stack_urn,
    )


# ---------------------------------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@contextlib.contextmanager
def _isolated_runtime(config: Mapping[str, str], program_dir: Path) -> Iterator[None]:
    """Give the run exactly `config` (not a stray PULUMI_CONFIG from the environment, nor config a
    previous run set), a fresh root stack, and the program's directory on sys.path as the CLI does."""
    saved_config = dict(runtime_config.CONFIG.get())
    saved_env = {
        k: os.environ.pop(k) for k in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS") if k in os.environ
    }
    saved_root = runtime_settings.get_root_resource()
    runtime_config.set_all_config(dict(config))
    runtime_settings.ROOT.set(None)  # set_mocks only creates a new root stack when there is none
    sys.path.insert(0, str(program_dir))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(program_dir))
        runtime_config.set_all_config(saved_config)
        runtime_settings.ROOT.set(saved_root)
        os.environ.update(saved_env)


class _WarningCollector(logging.Logger):
    """The mock engine logs `pulumi.log.warn`/`error` through a logger; keep those messages."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__("stack_program", logging.WARNING)
        self.propagate = False
        self._sink = sink

    def handle(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self._sink.append(record.getMessage())


def _plain(value: Any) -> Any:
    """Deep-copy into plain JSON-like data (dict, list, str, numbers, bool, None) so captured
    inputs can be fed to a policy or serialized, and later mutation cannot reach back."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, pulumi.Resource):
        return getattr(value, "_name", repr(value))
    return str(value)


class _CapturingMonitor(runtime_mocks.MockMonitor):
    """Records each RegisterResource request: type, name, URN, wire inputs, parent, dependencies."""

    def __init__(self, mocks: runtime_mocks.Mocks, project: str, stack: str) -> None:
        super().__init__(mocks)
        self.project = project
        self.stack = stack
        self.captured: list[DeclaredResource] = []
        self.stack_urn = ""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine builds them: the full parent type chain, without the root stack type
        (the stock mock monitor keeps `pulumi:pulumi:Stack$` and only the parent's last type)."""
        qualified = type_
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != ROOT_STACK_TYPE:
                qualified = f"{parent_type}${type_}"
        # Project and stack from this run, not from context variables the worker thread may lack.
        return f"urn:pulumi:{self.stack}::{self.project}::{qualified}::{name}"

    program_dir: Path | None = None

    def _source_position(self, request: Any) -> str | None:
        if not request.HasField("sourcePosition") or not request.sourcePosition.uri.startswith("file://"):
            return None
        path = Path(urllib.parse.unquote(request.sourcePosition.uri[len("file://"):]))
        if self.program_dir is not None:
            with contextlib.suppress(ValueError):
                path = path.relative_to(self.program_dir)
        return f"{path.as_posix()}#{request.sourcePosition.line}"

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == ROOT_STACK_TYPE:
            self.stack_urn = response.urn
            return response
        inputs = rpc.deserialize_properties(request.object)
        outputs = rpc.deserialize_properties(response.object) if response.HasField("object") else {}
        self.captured.append(
            DeclaredResource(
                type=request.type,
                name=request.name,
                urn=response.urn,
                inputs=_plain(inputs),
                parent=request.parent or None,
                dependencies=tuple(request.dependencies),
                property_dependencies={
                    key: tuple(deps.urns) for key, deps in sorted(request.propertyDependencies.items())
                },
                custom=bool(request.custom),
                source_position=self._source_position(request),
                outputs=_plain(outputs),
            )
        )
        return response


@dataclass
class _RealisticMocks(runtime_mocks.Mocks):
    """Outputs = inputs plus what the provider would compute, for the types the stack uses."""

    gcp_project: str
    counter: int = field(default=0)

    def new_resource(self, args: runtime_mocks.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        inputs = dict(args.inputs)
        project = inputs.get("project") or self.gcp_project
        token = args.typ
        if token == "gcp:container/registry:Registry":
            location = inputs.get("location")
            bucket = (
                f"{location.lower()}.artifacts.{project}.appspot.com"
                if location
                else (f"artifacts.{project}.appspot.com")
            )
            return bucket, {
                **inputs,
                "project": project,
                "bucketSelfLink": f"https://www.googleapis.com/storage/v1/b/{bucket}",
            }
        if token == "gcp:artifactregistry/repository:Repository":
            location = inputs.get("location", "")
            repository_id = inputs.get("repositoryId", args.name)
            full_name = f"projects/{project}/locations/{location}/repositories/{repository_id}"
            labels = dict(inputs.get("labels") or {})
            return full_name, {
                **inputs,
                "project": project,
                # pulumi-gcp 10.x documents `name` as the short repository name ("repo1");
                # the id is the full resource name.
                "name": repository_id,
                "registryUri": f"{location}-docker.pkg.dev/{project.replace(':', '/')}/{repository_id}",
                "effectiveLabels": {**labels, "goog-pulumi-provisioned": "true"},
                "pulumiLabels": {**labels, "goog-pulumi-provisioned": "true"},
                "createTime": "2026-01-01T00:00:00Z",
                "updateTime": "2026-01-01T00:00:00Z",
            }
        if token.startswith(("gcp:artifactregistry/repositoryIam", "gcp:storage/bucketIAM")):
            # Read back as terraform-provider-google's IAM updaters set it: the repository's full name with
            # project and location (ArtifactRegistryRepositoryIamUpdater), the bucket as `b/NAME`
            # (StorageBucketIamUpdater.GetResourceId); the resource id is that, the role and the member.
            self.counter += 1
            if token.startswith("gcp:artifactregistry"):
                location = inputs.get("location", "")
                repository = str(inputs.get("repository", ""))
                target = repository if repository.startswith("projects/") else \
                    f"projects/{project}/locations/{location}/repositories/{repository}"
                read_back = {"repository": target, "project": project, "location": location}
            else:
                target = f"b/{str(inputs.get('bucket', '')).removeprefix('b/')}"
                read_back = {"bucket": target}
            role = inputs.get("role", "")
            who = inputs.get("member") or ",".join(inputs.get("members") or [])
            return f"{target}/{role}/{who}", {**inputs, **read_back, "etag": f"BwY{self.counter:08d}="}
        # The nightly audit's types (model_registry/nightly_audit.py).
        if token == "gcp:serviceaccount/account:Account":
            email = f"{inputs.get('accountId', args.name)}@{project}.iam.gserviceaccount.com"
            name = f"projects/{project}/serviceAccounts/{email}"
            return name, {**inputs, "project": project, "email": email, "name": name,
                          "member": f"serviceAccount:{email}", "uniqueId": "104857600000000000001"}
        if token == "gcp:projects/iAMCustomRole:IAMCustomRole":
            name = f"projects/{project}/roles/{inputs.get('roleId', args.name)}"
            return name, {**inputs, "project": project, "name": name, "deleted": False}
        if token == "gcp:storage/bucket:Bucket":
            name = inputs.get("name") or f"{args.name}-0a1b2c3"
            return name, {**inputs, "project": project, "name": name, "url": f"gs://{name}",
                          "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}"}
        if token == "gcp:cloudrunv2/job:Job":
            name = inputs.get("name") or args.name
            location = inputs.get("location", "")
            return f"projects/{project}/locations/{location}/jobs/{name}", {
                **inputs, "project": project, "name": name, "uid": "0b1c2d3e-0000-4000-8000-000000000001"}
        if token == "gcp:cloudscheduler/job:Job":
            name = inputs.get("name") or args.name
            region = inputs.get("region", "")
            return f"projects/{project}/locations/{region}/jobs/{name}", {
                **inputs, "project": project, "name": name, "state": "ENABLED"}
        if token in ("gcp:projects/iAMMember:IAMMember", "gcp:cloudrunv2/jobIamMember:JobIamMember"):
            self.counter += 1
            target = inputs.get("name") or inputs.get("project") or project
            return f"{target}/{inputs.get('role')}/{inputs.get('member')}", {
                **inputs, "etag": f"BwY{self.counter:08d}="}
        return f"{args.name}-id", inputs

    def call(self, args: runtime_mocks.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == "gcp:organizations/getClientConfig:getClientConfig":
            return {"project": self.gcp_project, "id": self.gcp_project}, None
        return {}, None
