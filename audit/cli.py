"""`registry-guard` (or `python -m audit`): audit the live model registry, check a stack offline, re-render reports.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 bad usage or bad input
(one line naming it); 3 the scan could not read everything (the report says what). `--help` on each command
says the same, with examples.

Every line printed goes through `console.safe`: names from the registry reach the console, and a control
character in one must not become a GitHub Actions workflow command or a forged terminal line.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from registry_guard.catalogue.settings import Settings, SettingsError
from registry_guard.catalogue.severity import SEVERITIES

from . import __version__
from .formats import FORMATS, ReportWriteError
from .report import Report, Waiver

if TYPE_CHECKING:
    from .formats import Written
    from .formats.options import RenderOptions
    from .scan import PendingSnapshot
    from .sources.oci.limits import Limits

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3

# google.api_core warns about Python 3.11's support window on import: noise in every report run.
warnings.filterwarnings("ignore", category=FutureWarning, module="google.api_core")


class UsageError(Exception):
    """Bad usage or bad input: printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message + _suggestion(self, message))


def _options_of(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of `parser` and of its commands."""
    found: list[str] = []
    for action in parser._actions:
        found += [o for o in action.option_strings if o.startswith("--")]
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += _options_of(child)
    return list(dict.fromkeys(found))


def _suggestion(parser: argparse.ArgumentParser, message: str) -> str:
    """A "did you mean" for a mistyped option, command or choice; empty when nothing is close."""
    from .rule_selection import did_you_mean

    if message.startswith("unrecognized arguments:"):
        for word in message.split(":", 1)[1].split():
            if word.startswith("--"):
                hint = did_you_mean(word.split("=", 1)[0], _options_of(parser))
                if hint:
                    return hint
        return ""
    invalid = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if invalid:
        return did_you_mean(invalid[1], re.findall(r"'([^']*)'", invalid[2]))
    return ""


PROG = "registry-guard"
# The names of `audit.sources.oci.limits.Limits` (its module is imported only when a scan reads a registry).
OCI_LIMITS = ("response_bytes", "listing_pages", "repository_bytes", "scan_bytes", "scan_names", "listing_seconds",
              "scan_seconds", "retry_after_seconds", "artifact_bytes", "artifacts_per_image")

EXIT_CODES = """exit codes:
  0  nothing at or above --fail-on (check: no mandatory violation, `pulumi up --policy-pack` would pass)
  1  findings at or above --fail-on (check: a mandatory violation, `pulumi up --policy-pack` would be blocked)
  2  bad usage or bad input: one line names it
  3  not everything could be read: the report says what, and never says compliant"""

EXAMPLES = {
    "main": """examples:
  {prog} scan --project my-ml-project --location us-central1 --format html
  {prog} check --stack-config Pulumi.prod.yaml --format sarif --format markdown
  {prog} rules
  {prog} <command> --help""",
    "scan": """examples:
  {prog} scan --project my-ml-project --location us-central1 --history gs://my-audit/history --format html
  {prog} scan --registry https://registry.example --waivers waivers.yaml --config settings.yaml
  {prog} scan --project P --location L --desired stack.json --skip-rules required-labels
  {prog} scan --gcr-bucket artifacts.P.appspot.com --format json --output -    (the JSON report on stdout)""",
    "check": """examples:
  {prog} check --stack-config Pulumi.prod.yaml --stack prod --format sarif --format markdown
  {prog} check --config-value gcp:project=my-ml-project --rules no-public-access,no-broad-admin
  {prog} check --program infra/registry --stack-config infra/registry/Pulumi.prod.yaml \\
      --sarif-path-prefix infra/registry --format sarif    (a stack below the repository's root)""",
    "merge": """examples:
  {prog} merge task-*/registry-guard-scan.json --format html --format json""",
    "report": """examples:
  {prog} report reports/registry-guard-scan.json --format markdown --format html
  {prog} report registry-guard-scan.json --format sarif --sarif-category registry/eu --output -""",
    "rules": """examples:
  {prog} rules
  {prog} rules --json""",
}


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the epilog's layout, and says each option's default where it has one worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "%(default)" in text or "(default" in text or default in (None, False, [], "", argparse.SUPPRESS):
            return text
        shown = " ".join(default) if isinstance(default, list | tuple) else str(default)
        return f"{text} (default: {shown})"


def _prog() -> str:
    """`registry-guard` for the console script; `python -m audit` where that is how it was started."""
    return "python -m audit" if Path(sys.argv[0]).name == "__main__.py" else PROG


def _parser() -> argparse.ArgumentParser:
    prog = _prog()

    def epilog(name: str) -> str:
        return EXAMPLES[name].format(prog=prog) + ("\n\n" + EXIT_CODES if name != "rules" else "")

    parser = _Parser(prog=prog, description=__doc__.splitlines()[0], formatter_class=_Formatter,
                     epilog=epilog("main"))
    parser.add_argument("--version", action="version", version=f"model-registry-guard {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND",
                                title="commands")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=summary, formatter_class=_Formatter,
                              epilog=epilog(name))

    scan = command("scan", "audit the live registry (read-only): settings, IAM, images and tags")
    scan.add_argument("--project", action="append", default=[], metavar="ID",
                      help="Google Cloud project of the Artifact Registry repositories (repeatable: more than one, "
                           "or any with --location all, discovers every repository and bucket in them)")
    scan.add_argument("--location", action="append", default=[], metavar="LOCATION",
                      help="Artifact Registry location, e.g. us-central1 (repeatable, or `all`)")
    scan.add_argument("--organization", metavar="ID",
                      help="discover every Artifact Registry repository and Container Registry bucket under this "
                           "organization (Cloud Asset Inventory, else project by project), in --location")
    scan.add_argument("--folder", metavar="ID", help="the same under a folder")
    scan.add_argument("--asset-endpoint", metavar="URL",
                      help="point the Cloud Asset Inventory client elsewhere (a local stand-in)")
    scan.add_argument("--repository", action="append", default=[], metavar="ID",
                      help="an Artifact Registry repository id (repeatable; default: every repository)")
    scan.add_argument("--artifact-registry-endpoint", metavar="HOST[:PORT]|URL",
                      help="point the Artifact Registry client elsewhere (a local stand-in)")
    scan.add_argument("--gcr-bucket", action="append", default=[], metavar="NAME",
                      help="a Container Registry bucket to audit (repeatable)")
    scan.add_argument("--effective-access", nargs="?", const="local", choices=("local", "policy-analyzer"),
                      metavar="BACKEND",
                      help="judge who can pull, push, move tags, delete versions and change IAM through the project, "
                           "its folders and organization and chains of service account impersonation, not only "
                           "the repository's and bucket's own IAM. BACKEND local (default) reads Resource Manager "
                           "and IAM; policy-analyzer asks Cloud Asset's Policy Analyzer (with --organization; the "
                           "local backend where the caller may not use it)")
    scan.add_argument("--resource-manager-endpoint", metavar="URL",
                      help="point the Resource Manager client elsewhere (a local stand-in)")
    scan.add_argument("--iam-endpoint", metavar="URL", help="point the IAM client elsewhere (a local stand-in)")
    scan.add_argument("--registry", action="append", default=[], metavar="URL",
                      help="an OCI registry to inventory, e.g. https://us-docker.pkg.dev (repeatable; https; plain "
                           "http only for loopback)")
    scan.add_argument("--registry-token-env", metavar="VAR",
                      help="environment variable holding a registry token (default: ADC for Google hosts)")
    scan.add_argument("--registry-token-realm", action="append", default=[], metavar="HOST[:PORT]",
                      help="a token endpoint host other than the registry's own that may receive the registry "
                           "credentials (repeatable)")
    scan.add_argument("--desired", type=Path, metavar="FILE",
                      help="a `pulumi stack export` file: live IAM and settings that differ are drift findings")
    scan.add_argument("--history", metavar="DIR|gs://BUCKET/PREFIX",
                      help="where scan snapshots are kept: moved and deleted versions, each finding's trend")
    scan.add_argument("--concurrency", type=_positive(int), default=16, metavar="N",
                      help="requests in flight at once per OCI registry")
    scan.add_argument("--rate-limit", type=_positive(float), metavar="REQ_PER_S",
                      help="client-side request rate limit (default: none)")
    scan.add_argument("--timeout", type=_positive(float), default=10.0, metavar="SECONDS",
                      help="per-request timeout in seconds")
    scan.add_argument("--oci-limit", action="append", default=[], metavar="NAME=VALUE",
                      help="change one limit of what an OCI registry scan reads before it stops with a read error "
                           "naming the limit (repeatable): " + ", ".join(OCI_LIMITS) + " (bytes, counts, seconds)")
    scan.add_argument("--shard", metavar="I/N",
                      help="scan a deterministic slice (default: Cloud Run's CLOUD_RUN_TASK_INDEX/COUNT, if set)")
    scan.add_argument("--waivers", type=Path, metavar="FILE",
                      help="accepted risks (YAML): rule, resource, justification, owner, expires")
    scan.add_argument("--config", type=Path, metavar="FILE",
                      help="the pack's settings (allowedAdmins, versionTagPattern, requiredLabels, ...), flat or in "
                           "--policy-pack-config form")
    _rule_options(scan)
    _report_options(scan)

    check = command("check", "offline policy check: the stack under mocks, judged by the real policy pack")
    check.add_argument("--program", type=Path, default=Path("."), metavar="DIR",
                       help="the Pulumi program's directory")
    check.add_argument("--stack-config", type=Path, metavar="Pulumi.STACK.yaml",
                       help="stack config file (the `config:` map of a Pulumi.<stack>.yaml); SARIF results point at "
                            "the line that set a violating value")
    check.add_argument("--config-value", action="append", default=[], metavar="KEY=VALUE",
                       help="one config value, e.g. gcp:project=my-project (repeatable; wins over the file)")
    check.add_argument("--stack", default="dev", help="stack name for URNs")
    check.add_argument("--policy-pack", type=Path, metavar="DIR", help="policy pack directory (default: ours)")
    check.add_argument("--policy-pack-config", type=Path, metavar="FILE",
                       help="the JSON you would pass to `pulumi up --policy-pack-config`")
    _rule_options(check)
    _report_options(check)

    merge = command("merge", "join the partial reports of `scan --shard I/N` into one")
    merge.add_argument("reports", type=Path, nargs="+", metavar="REPORT.json",
                       help="every shard's JSON report; complete only when each shard is there and complete")
    _report_options(merge)

    report = command("report", "re-render a saved JSON report in other formats")
    report.add_argument("report_file", type=Path, metavar="REPORT.json", help="a JSON report of scan, check or merge")
    _report_options(report)

    rules = command("rules", "list the rule catalogue: id, severity, where each rule runs, frameworks")
    rules.add_argument("--json", action="store_true", help="the catalogue as JSON, for scripts")
    return parser


def _rule_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rules", action="append", default=[], metavar="ID[,ID...]",
                   help="evaluate only these rules (repeatable; `rules` lists the ids; default: every rule)")
    p.add_argument("--skip-rules", action="append", default=[], metavar="ID[,ID...]",
                   help="do not evaluate these rules (repeatable)")


def _report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", action="append", choices=sorted(FORMATS), default=None, metavar="FORMAT",
                   help=f"report format: {', '.join(sorted(FORMATS))} (repeatable; default: json)")
    p.add_argument("--output", type=Path, default=Path("reports"), metavar="DIR|-",
                   help="directory for the report files and their SHA-256 manifest; `-` writes the one --format "
                        "to stdout")
    p.add_argument("--fail-on", choices=SEVERITIES, default="high", metavar="SEVERITY",
                   help=f"lowest severity that fails the exit code: {', '.join(SEVERITIES)}")
    p.add_argument("--sarif-category", metavar="CATEGORY",
                   help="GitHub code scanning category of the SARIF run (default: derived from the target)")
    p.add_argument("--sarif-path-prefix", default="", metavar="DIR",
                   help="the program's folder inside the repository, for SARIF locations and source links")
    p.add_argument("--source-url", metavar="URL",
                   help="base URL of the repository's files at this commit, e.g. "
                        "https://github.com/ORG/REPO/blob/SHA/: the Markdown links each declaring line")
    p.add_argument("--quiet", action="store_true", help="no progress output and no findings table")


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


def _settings(path: Path | None) -> Settings:
    if path is None:
        return Settings()
    from .settings_file import load_settings

    return load_settings(path)


def _config_waivers(path: Path | None) -> tuple[Waiver, ...]:
    """Waivers a pack config given as `--config` carries for its policies (see settings_file)."""
    if path is None:
        return ()
    from .settings_file import config_waivers

    return config_waivers(path)


def _to_stdout(args: argparse.Namespace) -> bool:
    return str(args.output) == "-"


def _console(args: argparse.Namespace) -> TextIO:
    """Where the summary, the findings table and the report paths go: stderr when stdout carries a report."""
    return sys.stderr if _to_stdout(args) else sys.stdout


def _render_options(args: argparse.Namespace) -> RenderOptions:
    from .formats.options import RenderOptions

    try:
        return RenderOptions(sarif_category=args.sarif_category, path_prefix=args.sarif_path_prefix,
                             source_url=args.source_url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _finish(report: Report, args: argparse.Namespace, pending: PendingSnapshot | None = None) -> int:
    from .console import print_findings, safe
    from .formats.verdict import verdict
    from .scan import exit_code, write_outputs, write_stream

    console = _console(args)
    formats = tuple(args.format or ["json"])
    written: list[Written] = []
    try:
        if _to_stdout(args):
            report = write_stream(report, pending, formats[0], sys.stdout, args.render)
        else:
            report, written = write_outputs(report, pending, args.output, formats, args.render)
    except ReportWriteError as exc:  # e.g. the disk filled up: nothing was published, no snapshot stored
        left = " and the history was left as it was" if pending else ""
        print(f"error: {safe(exc)}; no report was written{left}", file=sys.stderr)
        return EXIT_INCOMPLETE
    summary = report.summary()
    # A check passes or is blocked by the pack: its status word says which, not "non-compliant".
    status = verdict(report).status if report.kind == "check" else summary["status"]
    print(f"{status}: {summary['total']} finding(s) "
          f"({', '.join(f'{n} {s}' for s, n in summary['by_severity'].items() if n) or 'none'}), "
          f"{summary['errors']} read error(s)", file=console)
    if not args.quiet:
        print_findings(report, console)
    for error in report.errors[:10]:
        print(f"not read: {safe(error.target)}: {safe(error.message)}", file=sys.stderr)
    if len(report.errors) > 10:
        print(f"not read: ... and {len(report.errors) - 10} more (see the report)", file=sys.stderr)
    for item in written:
        print(f"report: {safe(item.path)}" + (" (replaced the earlier file of that name)" if item.replaced else ""),
              file=console)
    return exit_code(report, args.fail_on)


def _scan(args: argparse.Namespace) -> int:
    from .console import safe
    from .progress import ScanProgress, reporting
    from .rule_selection import SCAN_STAGES, select
    from .scan import ScanOptions, run_scan, shard_from
    from .waivers import load_waivers

    for url in args.registry:
        if "://" not in url:
            raise UsageError(f"--registry {safe(url)!r}: a URL starts with its scheme; did you mean "
                             f"https://{safe(url)}?")

    token = None
    if args.registry_token_env:
        token = os.environ.get(args.registry_token_env)
        if not token:
            raise UsageError(f"--registry-token-env: {args.registry_token_env} is not set")
    try:
        single = (len(args.project) <= 1 and len(args.location) <= 1 and "all" not in args.location
                  and not (args.organization or args.folder))
        options = ScanOptions(
            project=(args.project or [None])[0] if single else None,
            location=(args.location or [None])[0] if single else None, repositories=tuple(args.repository),
            organization=args.organization, folder=args.folder, projects=() if single else tuple(args.project),
            locations=() if single else tuple(args.location), asset_endpoint=args.asset_endpoint,
            artifact_registry_endpoint=args.artifact_registry_endpoint, gcr_buckets=tuple(args.gcr_bucket),
            registries=tuple(args.registry), registry_token=token,
            registry_token_realms=tuple(args.registry_token_realm), desired=args.desired, history=args.history,
            settings=_settings(args.config), concurrency=args.concurrency, rate_limit=args.rate_limit,
            timeout=args.timeout, shard=shard_from(args.shard, dict(os.environ)),
            waivers=(load_waivers(args.waivers) if args.waivers else ()) + _config_waivers(args.config),
            rules=select(args.rules, args.skip_rules, SCAN_STAGES, "scan"),
            effective_access=args.effective_access, resource_manager_endpoint=args.resource_manager_endpoint,
            iam_endpoint=args.iam_endpoint, oci_limits=_oci_limits(args.oci_limit),
        )
        # The display moves as the sources read repositories and tags (audit.progress).
        with ScanProgress(quiet=args.quiet) as progress, reporting(progress):
            outcome = run_scan(options, progress)
    except (ValueError, SettingsError) as exc:
        raise UsageError(str(exc).splitlines()[0]) from None
    return _finish(outcome.report, args, outcome.pending)


def _oci_limits(items: list[str]) -> Limits | None:
    if not items:
        return None
    from .sources.oci.limits import Limits

    return Limits().with_overrides(items)


def _check(args: argparse.Namespace) -> int:
    from .offline_check.analyzer import PackStartError, PolicyConfigError
    from .offline_check.check import PackCallError
    from .offline_check.report import check_report, load_pack_config, load_stack_config
    from .sources.stack_program import StackProgramError

    try:
        stack_config = load_stack_config(args.stack_config, args.config_value, args.program)
        pack_config = load_pack_config(args.policy_pack_config) if args.policy_pack_config else None
        from .rule_selection import CHECK_STAGES, pack_config_for, select

        pack_config = pack_config_for(pack_config, select(args.rules, args.skip_rules, CHECK_STAGES, "check"))
        from .offline_check.check import run_offline_check

        result = run_offline_check(args.program, stack_config, args.policy_pack, pack_config, stack=args.stack)
    except (StackProgramError, PolicyConfigError, PackStartError, ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    except PackCallError as exc:  # the pack hung or died mid-check: nothing judged, never "would pass"
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    report = check_report(result, args.program, args.stack, args.stack_config)
    code = _finish(report, args)
    mandatory = len(result.mandatory)
    print(f"{mandatory} mandatory violation(s): `pulumi up --policy-pack` would "
          f"{'be blocked' if mandatory else 'pass the pack'}", file=_console(args))
    return EXIT_FINDINGS if mandatory else (EXIT_OK if code == EXIT_FINDINGS else code)


def _read_report(path: Path) -> dict[str, object]:
    import jsonschema

    from .formats.json_report import validate
    from .input_files import MAX_DOCUMENT_BYTES, parse_json, read_text

    text = read_text(path, UsageError, MAX_DOCUMENT_BYTES)
    try:
        document: dict[str, object] = parse_json(text)  # no NaN, no number too large to render
        validate(document)
    except ValueError as exc:
        raise UsageError(f"{path}: not a valid report ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise UsageError(f"{path}: not a valid report (nested too deeply)") from None
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        # The schema keyword, not jsonschema's message: that quotes the value, and the file may be anything.
        raise UsageError(f"{path}: not a valid report (at {where}: fails `{exc.validator}` of the report schema)"
                         ) from None
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

    try:
        report = report_from_json(_read_report(args.report_file))
    except ValueError as exc:  # e.g. a date that does not exist
        raise UsageError(f"{args.report_file}: not a valid report ({exc})") from None
    return _finish(report, args)


def _check_output(directory: Path) -> None:
    """Before anything runs: an output that cannot hold the reports is bad usage."""
    from .formats import check_output_directory

    try:
        check_output_directory(directory)
    except ReportWriteError as exc:
        raise UsageError(str(exc)) from None


def _rules(args: argparse.Namespace) -> int:
    """`rules`: the catalogue from the rules' declarations."""
    from .console import print_rules, rules_json

    if args.json:
        import json

        print(json.dumps(rules_json(), indent=2))
    else:
        print_rules(sys.stdout)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    from .console import safe

    try:
        args = _parser().parse_args(argv)
        if args.command == "rules":
            return _rules(args)
        args.render = _render_options(args)
        if _to_stdout(args):
            if len(set(args.format or ["json"])) != 1:
                raise UsageError("--output -: stdout carries one report; give exactly one --format")
        else:
            _check_output(args.output)
        handler = {"scan": _scan, "check": _check, "merge": _merge, "report": _report}[args.command]
        return handler(args)
    except UsageError as exc:
        print(f"error: {safe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
