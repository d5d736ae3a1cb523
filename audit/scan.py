"""One audit run: read every source, judge the estate, compare with history and the stack, report.

Sources -> normalized `RegistryState` -> rule catalogue -> findings -> `Report`. Anything a source
could not read becomes a `ScanError`, which makes the report incomplete (never compliant).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from registry_guard.catalogue.findings import Undetermined
from registry_guard.catalogue.judge import Judgement, judge
from registry_guard.catalogue.model import RegistryState, Subject
from registry_guard.catalogue.rule import Inputs, Stage, rules_at
from registry_guard.catalogue.settings import Settings

from .errors import ScanError
from .report import Report, Waiver, build_report, finding_from_json, inventory_of
from .sharding import in_shard
from .sources.history import History, HistoryError, HistoryRead, Snapshot, next_snapshot, open_history, snapshot_name
from .sources.source import Source, SourceRead
from .waivers import apply_waivers

Progress = Callable[[str], None]

if TYPE_CHECKING:
    from registry_guard.catalogue.access_model import EffectiveAccess

    from .formats import Written
    from .formats.options import RenderOptions
    from .sources.oci.limits import Limits


@dataclass(frozen=True)
class ScanOptions:
    project: str | None = None
    location: str | None = None
    repositories: tuple[str, ...] = ()
    artifact_registry_endpoint: str | None = None
    gcr_buckets: tuple[str, ...] = ()
    registries: tuple[str, ...] = ()
    registry_token: str | None = None  # a static token for --registry (else ADC for Google hosts)
    registry_token_realms: tuple[str, ...] = ()  # token endpoint hosts, besides the registry's, allowed the token
    desired: Path | None = None
    history: str | None = None
    settings: Settings = field(default_factory=Settings)
    concurrency: int = 16
    rate_limit: float | None = None
    timeout: float = 10.0
    shard: tuple[int, int] | None = None
    waivers: tuple[Waiver, ...] = ()
    rules: frozenset[str] | None = None  # --rules / --skip-rules: the rule ids to evaluate (None: every rule)
    effective_access: str | None = None  # --effective-access: "local" (None: the repositories' and buckets' IAM only)
    # Org scale: discover every repository and Container Registry bucket under one of these, in `locations`
    # (or "all"), through Cloud Asset Inventory, else project by project.
    organization: str | None = None
    folder: str | None = None
    projects: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    asset_endpoint: str | None = None
    resource_manager_endpoint: str | None = None
    iam_endpoint: str | None = None
    oci_limits: Limits | None = None  # --oci-limit: what one registry scan may read (None: the defaults)

    @property
    def discovers(self) -> bool:
        return bool(self.organization or self.folder or self.projects)


@dataclass(frozen=True)
class PendingSnapshot:
    """This scan's history snapshot, stored only once its reports are on disk: a scan whose reports could
    not be written must leave the history as it was, or the next scan would compare against a snapshot
    whose findings nobody ever saw."""

    history: History
    snapshot: Snapshot
    read: HistoryRead

    @property
    def planned(self) -> str:
        """Where it will be, unless a concurrent scan takes its number first."""
        return self.history.where(snapshot_name(self.read.next_sequence))

    def commit(self) -> str:
        return self.history.commit(self.snapshot, self.read)


@dataclass(frozen=True)
class ScanOutcome:
    report: Report
    pending: PendingSnapshot | None = None


@dataclass
class _Collected:
    state: RegistryState = field(default_factory=RegistryState)
    errors: list[ScanError] = field(default_factory=list)
    unread: set[str] = field(default_factory=set)
    target: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    requests: int = 0

    def add(self, read: SourceRead) -> None:
        """What one source read joins what the others read."""
        self.state = self.state.merged(read.state)
        self.errors.extend(read.errors)
        self.unread.update(read.unread)
        self.requests += read.requests or 0
        read.target.add_to(self.target)


def _sources(options: ScanOptions) -> list[Source]:
    """The sources the options name, in the order they are read and reported. Each module is imported only
    when the scan reads that kind of source (the Google clients take a while to import)."""
    sources: list[Source] = []
    if options.project and options.location:
        from .sources.artifact_registry import ArtifactRegistrySource

        sources.append(ArtifactRegistrySource(
            project=options.project, location=options.location, repositories=options.repositories,
            endpoint=options.artifact_registry_endpoint, timeout=options.timeout, shard=options.shard))
    elif options.project or options.location:
        raise ValueError("--project and --location go together (both name the Artifact Registry to scan)")
    if options.gcr_buckets:
        from .sources.gcs_bucket import GcrBucketSource

        sources += [GcrBucketSource(bucket=bucket, timeout=options.timeout)
                    for bucket in options.gcr_buckets if in_shard(bucket, options.shard)]
    return sources + _registry_sources(options)


def _registry_sources(options: ScanOptions) -> list[Source]:
    """The OCI registries named with --registry (read in discovery scans too)."""
    if not options.registries:
        return []
    from .sources.oci import OciRegistrySource
    from .sources.oci.source import release_reads

    reads = release_reads(options.settings, options.rules)
    return [OciRegistrySource(url=url, token=options.registry_token, concurrency=options.concurrency,
                              rate_limit=options.rate_limit, timeout=options.timeout, shard=options.shard,
                              token_realms=options.registry_token_realms,
                              version_tag_pattern=options.settings.version_tag_pattern, reads=reads,
                              limits=options.oci_limits)
            for url in options.registries]


def _discovered_sources(options: ScanOptions, out: _Collected, progress: Progress) -> list[Source]:
    """The sources of every repository and bucket found under the organization, folder or projects."""
    from .sources.discovered import DiscoveredRegistry
    from .sources.discovery import discover, scopes_of
    from .sources.gcs_bucket import GcrBucketSource

    scopes = scopes_of(options.organization, options.folder, options.projects)
    progress(f"discovering repositories and buckets under {', '.join(s.name for s in scopes)}")
    started = time.perf_counter()
    found = discover(scopes, options.locations, asset_endpoint=options.asset_endpoint,
                     resource_manager_endpoint=options.resource_manager_endpoint,
                     artifact_registry_endpoint=options.artifact_registry_endpoint, timeout=options.timeout)
    out.timings["discovery"] = time.perf_counter() - started
    out.errors.extend(found.errors)
    out.unread.update(e.target for e in found.errors)
    out.target["discovery"] = {"organization": options.organization, "folder": options.folder,
                               "projects": list(options.projects), "locations": list(options.locations),
                               **found.target()}
    sources: list[Source] = [
        DiscoveredRegistry(project=project, location=location, repositories=tuple(repositories or ()),
                           listed=repositories is None, endpoint=options.artifact_registry_endpoint,
                           timeout=options.timeout, shard=options.shard)
        for (project, location), repositories in sorted(found.registries.items())
        if repositories is None or repositories]
    buckets = list(dict.fromkeys([*found.buckets, *options.gcr_buckets]))
    sources += [GcrBucketSource(bucket=b, timeout=options.timeout) for b in buckets if in_shard(b, options.shard)]
    return sources


def _read_sources(options: ScanOptions, progress: Progress) -> _Collected:
    out = _Collected()
    sources = _discovered_sources(options, out, progress) if options.discovers else _sources(options)
    if options.discovers:
        sources += _registry_sources(options)
    for source in sources:
        progress(f"reading {source.description}")
        started = time.perf_counter()
        try:
            read = source.read()
        except ValueError:
            raise  # the sources' word for bad usage (e.g. a repository id that cannot be one): exit 2
        except Exception as exc:  # e.g. no Google credentials: a read error with the library's own hint
            out.errors.append(ScanError(source.key.split(":", 1)[0], source.description, _one_line(exc)))
            continue
        finally:
            out.timings[source.key] = time.perf_counter() - started
        out.add(read)
    return out


def _read_access(options: ScanOptions, out: _Collected, progress: Progress) -> None:
    """Effective access: what lies above the repositories and buckets read, and who may act as their service
    accounts. Read after every other source, since it starts from what they read."""
    from .sources.google_access import read_effective_access

    started = time.perf_counter()
    fallback: str | None = None
    if options.effective_access == "policy-analyzer" and options.organization:
        from .sources.policy_analyzer import AnalyzerUnavailable, analyze_effective_access

        progress("asking Policy Analyzer who can do what")
        try:
            read = analyze_effective_access(out.state, options.organization, asset_endpoint=options.asset_endpoint,
                                            timeout=options.timeout)
        except AnalyzerUnavailable as exc:
            fallback = f"Policy Analyzer could not be used on the organization ({exc}): the local backend was used"
        else:
            out.timings["effective_access"] = time.perf_counter() - started
            out.add(read)
            return
    progress("reading effective access (Resource Manager, IAM)")
    try:
        read = read_effective_access(out.state, resource_manager_endpoint=options.resource_manager_endpoint,
                                     iam_endpoint=options.iam_endpoint, timeout=options.timeout)
    except ValueError:
        raise
    except Exception as exc:  # e.g. no Google credentials: a read error, and every access "could not judge"
        out.errors.append(ScanError("resource-manager", "effective access", _one_line(exc)))
        from registry_guard.catalogue.access_model import AccessContext

        out.state = dataclasses.replace(out.state, access=AccessContext(basis="nothing could be read"))
        return
    finally:
        out.timings["effective_access"] = time.perf_counter() - started
    out.add(read)
    if fallback is not None:
        out.target["effective_access"] = {**out.target.get("effective_access", {}), "fallback": fallback}


def _unjudged_access(effective: EffectiveAccess) -> list[ScanError]:
    """What effective access could not judge makes the scan incomplete (exit 3), whatever the cause: one
    error per reason, naming the repositories and buckets it leaves unjudged."""
    by_reason: dict[str, list[str]] = {}
    for gap in effective.not_judged:
        who = f" for {gap.member}" if gap.member else ""
        by_reason.setdefault(f"effective access could not be judged{who}: {gap.reason}", []).append(
            str(gap.resource))
    errors = []
    for reason, resources in sorted(by_reason.items()):
        unique = list(dict.fromkeys(resources))
        target = unique[0] + (f" and {len(unique) - 1} more" if len(unique) > 1 else "")
        errors.append(ScanError("effective-access", target, reason))
    return errors


def run_scan(options: ScanOptions, progress: Progress = lambda _: None) -> ScanOutcome:
    """Scan, judge, compare; the report says what could not be read. The history snapshot is not stored
    here: `write_outputs` stores it once the reports are written."""
    started = time.perf_counter()
    if not (options.project or options.gcr_buckets or options.registries or options.discovers):
        raise ValueError("nothing to scan: give --project/--location, --organization, --folder, --gcr-bucket or "
                         "--registry")
    if options.discovers and (options.project or options.repositories):
        raise ValueError("--organization, --folder and several --project discover every repository: no --repository")
    from .sources.urls import check_url_allowed

    for url in options.registries:
        check_url_allowed(url)  # refuse before reading anything: one clear line, exit 2
    from .sources.oci.scanner import check_scan_numbers
    from .sources.oci.tokens import parse_realm_host

    check_scan_numbers(concurrency=options.concurrency, timeout=options.timeout, rate_limit=options.rate_limit)
    if options.effective_access == "policy-analyzer" and not options.organization:
        raise ValueError("--effective-access policy-analyzer needs --organization: Policy Analyzer sees only the "
                         "policies inside its scope, and grants above it would be missed")
    if options.effective_access or options.discovers:
        from .sources.google_access import check_endpoints

        check_endpoints(options.resource_manager_endpoint, options.iam_endpoint, options.asset_endpoint)
    for host in options.registry_token_realms:
        parse_realm_host(host)
    declared = None
    if options.desired is not None:
        from .sources.stack_export import load_stack_export

        declared = load_stack_export(options.desired)  # bad input fails before the scan, not after it
    observed_at = datetime.now(UTC)
    collected = _read_sources(options, progress)
    if options.effective_access:
        _read_access(options, collected, progress)
    state = RegistryState(
        repositories=collected.state.repositories, buckets=collected.state.buckets,
        legacy_registries=collected.state.legacy_registries, grants=collected.state.grants,
        images=collected.state.images, iam_complete_targets=collected.state.iam_complete_targets,
        observed_at=observed_at, access=collected.state.access, effective=collected.state.effective,
    )
    if state.access is not None and state.effective is None:
        from registry_guard.catalogue.effective_access import compute

        progress("computing effective access")
        started_access = time.perf_counter()
        state = dataclasses.replace(state, effective=compute(state, state.access))
        collected.timings["effective_access_compute"] = time.perf_counter() - started_access
    if state.effective is not None:
        collected.errors.extend(_unjudged_access(state.effective))
    progress("judging")
    judged = judge(Inputs(state, options.settings), Stage.LIVE, options.rules)

    if declared is not None:
        progress(f"comparing with the stack export {options.desired}")
        judged += judge(Inputs(state, options.settings, declared=declared.state), Stage.DECLARED, options.rules)
        judged += _unmatched(declared.state, state, options.shard)
        collected.target["desired"] = str(options.desired)

    try:
        history = open_history(_history_location(options.history, options.shard)) if options.history else None
    except HistoryError as exc:  # e.g. `gs://` without a bucket: bad usage, one line
        raise ValueError(str(exc)) from None
    history_info: dict[str, Any] = {}
    previous: Snapshot | None = None
    read: HistoryRead | None = None
    if history is not None:
        progress(f"comparing with history at {history.location}")
        try:
            read = history.read()
        except HistoryError as exc:
            collected.errors.append(ScanError("history", history.location, str(exc)))
        else:
            previous = read.previous
            if read.problem:
                collected.errors.append(ScanError("history", history.location, read.problem))
            if previous is not None:
                judged += judge(Inputs(state, options.settings,
                                       previous=RegistryState(images=previous.images, history=read.chain),
                                       unread=frozenset(collected.unread)), Stage.HISTORY, options.rules)
                history_info["previous_snapshot"] = previous.name
                history_info["previous_taken_at"] = previous.taken_at.isoformat()
            elif read.chain is not None:  # snapshots, none usable: only the history itself can be judged
                judged += judge(Inputs(state, options.settings, previous=RegistryState(history=read.chain)),
                                Stage.HISTORY, [r.id for r in rules_at(Stage.HISTORY) if Subject.HISTORY in r.subjects
                                                and (options.rules is None or r.id in options.rules)])
        collected.target["history"] = history.location

    if options.shard is not None:
        collected.target["shard"] = {"index": options.shard[0], "count": options.shard[1]}
    if options.rules is not None:  # what could not be judged is reported for the selected rules only
        judged = dataclasses.replace(judged, undetermined=tuple(
            u for u in judged.undetermined if u.rule_id in options.rules))
    findings = declared.locate(judged.findings) if declared is not None else judged.findings
    collected.timings["total"] = time.perf_counter() - started
    report = build_report(
        generated_at=observed_at, target=collected.target, errors=collected.errors, findings=findings,
        undetermined=judged.undetermined, inventory=inventory_of(state), rules_evaluated=judged.evaluated,
        timings=collected.timings,
    )
    waived, waivers = apply_waivers(report.findings, options.waivers, observed_at.date())
    report = dataclasses.replace(report, findings=waived, waivers=waivers)
    if state.effective is not None:
        from .access_matrix import access_matrix

        report = dataclasses.replace(report, access=access_matrix(state.effective))
    from .release_table import release_table

    report = dataclasses.replace(report, releases=release_table(state, options.settings, collected.unread))
    if previous is not None and previous.findings is not None:
        report = _with_trend(report, previous, history_info)
    pending = None
    # A history that could not be read is not written to either: without the newest snapshot's digest the
    # next one could not be chained, and the error stays until someone looks.
    if history is not None and read is not None:
        current = next_snapshot(Snapshot(observed_at, state.images, findings=tuple(
            f.to_json() for f in report.findings)), previous, collected.unread)
        pending = PendingSnapshot(history, current, read)
        history_info["snapshot"] = pending.planned
    return ScanOutcome(dataclasses.replace(report, history=history_info), pending)


def write_outputs(report: Report, pending: PendingSnapshot | None, directory: Path,
                  formats: Sequence[str], options: RenderOptions | None = None) -> tuple[Report, list[Written]]:
    """Write the reports, then store the history snapshot, then make the reports visible.

    The order is what keeps a finding from being lost: every format is written in full first (a read-only
    or full output stops here, before the history changes); only then is the snapshot stored; and if that
    fails, the reports are written again saying so (incomplete), before any of them is published."""
    from .formats import stage_reports
    from .formats.options import DEFAULT

    options = options or DEFAULT
    staged = stage_reports(report, directory, formats, options)
    if pending is not None:
        stored = _store_snapshot(report, pending)
        if stored is not report:
            staged.discard()
            report, staged = stored, stage_reports(stored, directory, formats, options)
    return report, staged.publish()


def _store_snapshot(report: Report, pending: PendingSnapshot) -> Report:
    """Store the history snapshot; the report as it must then read (where the snapshot went, or incomplete
    saying why it could not be stored), or `report` itself when it already says all that."""
    try:
        where = pending.commit()
    except HistoryError as exc:
        history = {k: v for k, v in report.history.items() if k != "snapshot"}
        return dataclasses.replace(report, complete=False, history=history,
                                   errors=(*report.errors, ScanError("history", pending.history.location, str(exc))))
    if where == report.history.get("snapshot"):
        return report
    return dataclasses.replace(report, history={**report.history, "snapshot": where})


def write_stream(report: Report, pending: PendingSnapshot | None, name: str, out: TextIO,
                 options: RenderOptions | None = None) -> Report:
    """`--output -`: one format on `out` (stdout), in the same order as `write_outputs`: rendered in full
    first, then the snapshot stored, then written; if the snapshot cannot be stored, the text written says so
    (incomplete)."""
    from .formats import render
    from .formats.options import DEFAULT

    text = render(report, name, options or DEFAULT)
    if pending is not None:
        stored = _store_snapshot(report, pending)
        if stored is not report:
            report, text = stored, render(stored, name, options or DEFAULT)
    out.write(text)
    out.flush()
    return report


def _unmatched(declared: RegistryState, live: RegistryState, shard: tuple[int, int] | None) -> Judgement:
    """What the stack declares that this scan did not read, as "could not judge" for each drift rule on it:
    a declared repository, bucket or IAM target missing from the live state can be out of the scan's scope
    or unreadable, and drift on it is unknown, never "none". Another shard's repositories and buckets are
    that shard's to judge."""
    def mine(name: str, kind: str) -> bool:
        return kind not in ("repository", "bucket") or in_shard(name, shard)

    live_repositories = {r.ref for r in live.repositories}
    live_buckets = {b.ref for b in live.buckets}
    unread: dict[Subject, set[str]] = {
        Subject.REPOSITORY: {str(r.ref) for r in declared.repositories
                             if r.ref not in live_repositories and mine(r.ref.name, r.ref.kind)},
        Subject.BUCKET: {str(b.ref) for b in declared.buckets
                         if b.ref not in live_buckets and mine(b.ref.name, b.ref.kind)},
        Subject.GRANT: {str(g.target) for g in declared.grants
                        if g.shape.startswith("iam") and g.target not in live.iam_complete_targets
                        and mine(g.target.name, g.target.kind)},
    }
    reason = ("declared in the stack export, but this scan did not read it (outside what it was asked to scan, "
              "or unreadable): drift on it is unknown")
    # With --effective-access the project's, folders' and organization's policies are read, but only to judge
    # access: drift compares whole policies with the stack's declarations for repositories and buckets only.
    read_for_access = ("declared in the stack export; this scan read the policy for effective access but does not "
                       "compare project, folder or organization IAM with the stack: drift on it is unknown")
    above = ({str(node) for node in live.access.parents if node not in live.access.unread}
             if live.access is not None else set())
    undetermined = tuple(
        Undetermined(rule.id, resource, read_for_access if resource in above else reason)
        for rule in rules_at(Stage.DECLARED) for subject in rule.subjects
        for resource in sorted(unread.get(subject, ())))
    return Judgement(undetermined=undetermined)


def _history_location(location: str, shard: tuple[int, int] | None) -> str:
    """Each shard keeps its own history: the same shard sees the same repositories every night, and a
    partial snapshot must never be compared with another shard's repositories."""
    if shard is None:
        return location
    return f"{location.rstrip('/')}/shard-{shard[0]}-of-{shard[1]}"


def _with_trend(report: Report, previous: Snapshot, history_info: dict[str, Any]) -> Report:
    """New / still-open / resolved against the previous scan's findings (by fingerprint)."""
    before = {f["fingerprint"]: f for f in previous.findings or ()}
    findings = tuple(dataclasses.replace(f, trend="still-open" if f.fingerprint in before else "new")
                     for f in report.findings)
    history_info["previous_report"] = previous.name
    if not report.complete:
        # A finding on something this scan could not read is not "resolved": say nothing rather than guess.
        history_info["resolved_note"] = "resolved findings are not listed for an incomplete scan"
        return dataclasses.replace(report, findings=findings)
    now = {f.fingerprint for f in report.findings}
    resolved = tuple(finding_from_json(f) for fp, f in before.items() if fp not in now)
    return dataclasses.replace(report, findings=findings, resolved=resolved)


def exit_code(report: Report, fail_on: str) -> int:
    """3 when the scan is incomplete (nothing may be called compliant), else 1 for findings at or
    above `fail_on`, else 0."""
    if not report.complete:
        return 3
    return 1 if report.at_or_above(fail_on) else 0


def shard_from(text: str | None, environ: dict[str, str]) -> tuple[int, int] | None:
    """`I/N`, or Cloud Run's CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT when set."""
    if text is None:
        index, count = environ.get("CLOUD_RUN_TASK_INDEX"), environ.get("CLOUD_RUN_TASK_COUNT")
        if index is None or count is None or count == "1":
            return None
        text = f"{index}/{count}"
    try:
        i, n = (int(p) for p in text.split("/", 1))
    except ValueError:
        raise ValueError(f"--shard: expected I/N with 0 <= I < N, got {text!r}") from None
    if not 0 <= i < n:
        raise ValueError(f"--shard: expected I/N with 0 <= I < N, got {text!r}")
    return i, n


def _one_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


__all__ = ["PendingSnapshot", "ScanOptions", "ScanOutcome", "exit_code", "run_scan", "shard_from", "write_outputs"]
