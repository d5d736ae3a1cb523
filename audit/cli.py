"""`python -m audit` / `registry-guard`: scan the live registry, check a stack offline, re-render reports.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 bad usage or bad input
(one line naming it); 3 the scan could not read everything (the report says what).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from registry_guard.catalogue.settings import Settings, SettingsError
from registry_guard.catalogue.severity import SEVERITIES

from . import __version__
from .formats import FORMATS, ReportWriteError
from .report import Report

if TYPE_CHECKING:
    from .scan import PendingSnapshot

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3

# google.api_core warns about Python 3.11's support window on import: noise in every report run.
warnings.filterwarnings("ignore", category=FutureWarning, module="google.api_core")


class UsageError(Exception):
    """Bad usage or bad input: printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m audit", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"model-registry-guard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    scan = sub.add_parser("scan", help="audit the live registry (read-only)")
    scan.add_argument("--project", help="Google Cloud project of the Artifact Registry repositories")
    scan.add_argument("--location", help="Artifact Registry location, e.g. us-central1")
    scan.add_argument("--repository", action="append", default=[], help="repository id (repeatable; default all)")
    scan.add_argument("--artifact-registry-endpoint", help="point the Artifact Registry client elsewhere")
    scan.add_argument("--gcr-bucket", action="append", default=[], metavar="NAME",
                      help="a Container Registry bucket to audit (repeatable)")
    scan.add_argument("--registry", action="append", default=[], metavar="URL",
                      help="an OCI registry to inventory (https; plain http only for loopback)")
    scan.add_argument("--registry-token-env", metavar="VAR",
                      help="environment variable holding a registry token (default: ADC for Google hosts)")
    scan.add_argument("--registry-token-realm", action="append", default=[], metavar="HOST[:PORT]",
                      help="a token endpoint host other than the registry's own that may receive the registry "
                           "credentials (repeatable)")
    scan.add_argument("--desired", type=Path, metavar="FILE", help="a `pulumi stack export` file to compare with")
    scan.add_argument("--history", metavar="DIR|gs://BUCKET/PREFIX", help="where scan snapshots are kept")
    scan.add_argument("--concurrency", type=_positive(int), default=16)
    scan.add_argument("--rate-limit", type=_positive(float), metavar="REQ_PER_S", help="client-side request rate limit")
    scan.add_argument("--timeout", type=_positive(float), default=10.0, help="per-request timeout in seconds")
    scan.add_argument("--shard", metavar="I/N", help="scan a deterministic slice (default: Cloud Run task env)")
    scan.add_argument("--waivers", type=Path, metavar="FILE", help="accepted risks (YAML): rule, resource, "
                      "justification, owner, expires")
    _common(scan)

    check = sub.add_parser("check", help="offline policy check: the stack under mocks, judged by the real pack")
    check.add_argument("--program", type=Path, default=Path("."), metavar="DIR",
                       help="the Pulumi program's directory (default: .)")
    check.add_argument("--stack-config", type=Path, metavar="Pulumi.STACK.yaml",
                       help="stack config file (the `config:` map of a Pulumi.<stack>.yaml)")
    check.add_argument("--config-value", action="append", default=[], metavar="KEY=VALUE",
                       help="one config value, e.g. gcp:project=my-project (repeatable; wins over the file)")
    check.add_argument("--stack", default="dev", help="stack name for URNs (default dev)")
    check.add_argument("--policy-pack", type=Path, metavar="DIR", help="policy pack directory (default: ours)")
    check.add_argument("--policy-pack-config", type=Path, metavar="FILE",
                       help="the JSON you would pass to `pulumi up --policy-pack-config`")
    _common(check)

    merge = sub.add_parser("merge", help="join the partial reports of `scan --shard I/N` into one")
    merge.add_argument("reports", type=Path, nargs="+", metavar="REPORT.json")
    merge.add_argument("--format", action="append", choices=sorted(FORMATS), default=None)
    merge.add_argument("--output", type=Path, default=Path("reports"))
    merge.add_argument("--fail-on", choices=SEVERITIES, default="high")

    report = sub.add_parser("report", help="re-render a saved JSON report")
    report.add_argument("report_file", type=Path, metavar="REPORT.json")
    report.add_argument("--format", action="append", choices=sorted(FORMATS), default=None)
    report.add_argument("--output", type=Path, default=Path("reports"))
    report.add_argument("--fail-on", choices=SEVERITIES, default="high")
    return parser


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    """An argparse type: a finite number > 0 (0, negatives, NaN and infinity are refused, exit 2)."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a {'whole ' if kind is int else ''}number, got {text!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
        return value

    return parse


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, metavar="FILE", help="settings: allowedAdmins, versionTagPattern, ...")
    p.add_argument("--format", action="append", choices=sorted(FORMATS), default=None,
                   help="report format (repeatable; default json)")
    p.add_argument("--output", type=Path, default=Path("reports"), help="directory for report files")
    p.add_argument("--fail-on", choices=SEVERITIES, default="high", help="lowest severity that fails (default high)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def _settings(path: Path | None) -> Settings:
    if path is None:
        return Settings()
    from .settings_file import load_settings

    return load_settings(path)


def _finish(report: Report, args: argparse.Namespace, pending: PendingSnapshot | None = None) -> int:
    from .scan import exit_code, write_outputs

    try:
        report, written = write_outputs(report, pending, args.output, tuple(args.format or ["json"]))
    except ReportWriteError as exc:  # e.g. the disk filled up: nothing was published, no snapshot stored
        print(f"error: {exc}; no report was written" + (" and the history was left as it was" if pending else ""),
              file=sys.stderr)
        return EXIT_INCOMPLETE
    summary = report.summary()
    print(f"{summary['status']}: {summary['total']} finding(s) "
          f"({', '.join(f'{n} {s}' for s, n in summary['by_severity'].items() if n) or 'none'}), "
          f"{summary['errors']} read error(s)")
    for error in report.errors[:10]:
        print(f"not read: {error.target}: {error.message}", file=sys.stderr)
    if len(report.errors) > 10:
        print(f"not read: ... and {len(report.errors) - 10} more (see the report)", file=sys.stderr)
    for item in written:
        print(f"report: {item.path}" + (" (replaced the earlier file of that name)" if item.replaced else ""))
    return exit_code(report, args.fail_on)


def _scan(args: argparse.Namespace) -> int:
    from .progress import ScanProgress
    from .scan import ScanOptions, run_scan, shard_from
    from .waivers import load_waivers

    token = None
    if args.registry_token_env:
        token = os.environ.get(args.registry_token_env)
        if not token:
            raise UsageError(f"--registry-token-env: {args.registry_token_env} is not set")
    try:
        options = ScanOptions(
            project=args.project, location=args.location, repositories=tuple(args.repository),
            artifact_registry_endpoint=args.artifact_registry_endpoint, gcr_buckets=tuple(args.gcr_bucket),
            registries=tuple(args.registry), registry_token=token,
            registry_token_realms=tuple(args.registry_token_realm), desired=args.desired, history=args.history,
            settings=_settings(args.config), concurrency=args.concurrency, rate_limit=args.rate_limit,
            timeout=args.timeout, shard=shard_from(args.shard, dict(os.environ)),
            waivers=load_waivers(args.waivers) if args.waivers else (),
        )
        steps = (bool(options.project) + len(options.gcr_buckets) + len(options.registries) + 1
                 + (options.desired is not None) + bool(options.history))
        with ScanProgress(steps, quiet=args.quiet) as progress:
            outcome = run_scan(options, progress)
    except (ValueError, SettingsError) as exc:
        raise UsageError(str(exc).splitlines()[0]) from None
    return _finish(outcome.report, args, outcome.pending)


def _check(args: argparse.Namespace) -> int:
    from .offline_check.analyzer import PackStartError, PolicyConfigError
    from .offline_check.report import check_report, load_pack_config, load_stack_config
    from .sources.stack_program import StackProgramError

    try:
        stack_config = load_stack_config(args.stack_config, args.config_value, args.program)
        pack_config = load_pack_config(args.policy_pack_config) if args.policy_pack_config else None
        from .offline_check.check import run_offline_check

        result = run_offline_check(args.program, stack_config, args.policy_pack, pack_config, stack=args.stack)
    except (StackProgramError, PolicyConfigError, PackStartError, ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    report = check_report(result, args.program, args.stack)
    code = _finish(report, args)
    mandatory = len(result.mandatory)
    print(f"{mandatory} mandatory violation(s): `pulumi up --policy-pack` would "
          f"{'be blocked' if mandatory else 'pass the pack'}")
    return EXIT_FINDINGS if mandatory else (EXIT_OK if code == EXIT_FINDINGS else code)


def _read_report(path: Path) -> dict[str, object]:
    import jsonschema

    from .formats.json_report import validate

    try:
        document: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
        validate(document)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise UsageError(f"{path}: not a valid report ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise UsageError(f"{path}: not a valid report (nested too deeply)") from None
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise UsageError(f"{path}: not a valid report (at {where}: {exc.message[:200]})") from None
    return document


def _merge(args: argparse.Namespace) -> int:
    from .merge import merge_reports

    documents = [(str(path), _read_report(path)) for path in args.reports]
    try:
        report = merge_reports(documents)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return _finish(report, args)


def _report(args: argparse.Namespace) -> int:
    from .report import report_from_json

    return _finish(report_from_json(_read_report(args.report_file)), args)


def _check_output(directory: Path) -> None:
    """Before anything runs: an output that cannot hold the reports is bad usage."""
    from .formats import check_output_directory

    try:
        check_output_directory(directory)
    except ReportWriteError as exc:
        raise UsageError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        _check_output(args.output)
        handler = {"scan": _scan, "check": _check, "merge": _merge, "report": _report}[args.command]
        return handler(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
