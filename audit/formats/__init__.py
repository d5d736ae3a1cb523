"""Report formats. Each renders the one `Report`; none re-judges anything.

Every report set carries a manifest, `registry-guard-<kind>.sha256`: the SHA-256 of each report file as
written, in `sha256sum` format, so a reviewer can check later (`sha256sum -c`) that no report was altered.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ..report import Report
from . import csv_report, html, json_report, junit, markdown, oscal, sarif
from .options import DEFAULT, RenderOptions

# name -> (file suffix, renderer)
FORMATS: dict[str, tuple[str, Callable[[Report], str]]] = {
    module.NAME: (module.SUFFIX, module.render)
    for module in (json_report, markdown, html, sarif, junit, csv_report, oscal)
}


# Formats that can write straight to the file: the JSON of 100k images would otherwise exist twice in
# memory (the dict and the whole string) at the peak of the scan.
STREAMING: dict[str, Callable[[Report, TextIO], None]] = {json_report.NAME: json_report.write}

# Formats that use the run's render options (category, path prefix, source links).
WITH_OPTIONS: dict[str, Callable[[Report, RenderOptions], str]] = {
    sarif.NAME: lambda report, options: sarif.render(report, options=options),
    markdown.NAME: lambda report, options: markdown.render(report, options=options),
}
MANIFEST_SUFFIX = ".sha256"
# A staging or probe file this old was left by a run that was killed mid-write (a live one renames or removes
# its own within seconds); the next write sweeps it, so it is never shipped with the reports.
STALE_AFTER_S = 3600.0
_STAGING = re.compile(r"^\.registry-guard-(?:probe-.*|[a-z]+\.[a-z0-9.]+\..+\.tmp)$")


def render(report: Report, name: str, options: RenderOptions = DEFAULT) -> str:
    """One format as text."""
    if name in WITH_OPTIONS:
        return WITH_OPTIONS[name](report, options)
    return FORMATS[name][1](report)


def manifest(digests: Sequence[tuple[str, str]]) -> str:
    """(file name, sha256 hex) pairs as `sha256sum` prints them: `sha256sum -c` verifies the set."""
    return "".join(f"{digest}  {name}\n" for name, digest in digests)


class ReportWriteError(Exception):
    """The reports could not be written; the one-line message names the path and the reason."""


@dataclass(frozen=True)
class Written:
    """One published report; `replaced` when a file (or a link) of that name was there before."""

    path: Path
    replaced: bool


@dataclass
class StagedReports:
    """Every format rendered and on disk under a unique temporary name, not yet visible under its own.

    Why stage: a run writes all its formats or none (a failure half-way never leaves a mix of new and old
    reports), and a scan commits its history snapshot only once its reports are safely on disk."""

    directory: Path
    files: list[tuple[Path, Path]] = field(default_factory=list)  # (temporary, final)

    def publish(self) -> list[Written]:
        """Rename each file into place. A rename replaces whatever entry has the final name, itself: a
        symbolic link planted there is replaced, and the file it points to is never written."""
        written = []
        try:
            for tmp, final in self.files:
                replaced = os.path.lexists(final)
                os.replace(tmp, final)
                written.append(Written(final, replaced))
            _sync_directory(self.directory)
        except OSError as exc:
            self.discard()
            raise ReportWriteError(f"{self.directory}: cannot write reports ({exc.strerror or exc})") from None
        self.files = []
        return written

    def discard(self) -> None:
        for tmp, _ in self.files:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self.files = []


def check_output_directory(directory: Path) -> None:
    """Refuse an output that cannot hold the reports before anything is scanned: a path that is not a
    directory, or a directory that cannot be created or written."""
    if directory.exists() and not directory.is_dir():
        raise ReportWriteError(f"--output {directory}: not a directory")
    # What is created to probe is removed again: a run that stops on bad usage leaves no empty directory
    # behind, and the reports' writing creates it for real.
    created = [d for d in (directory, *directory.parents) if not d.exists()]
    try:
        fd, probe = _new_file(directory, ".registry-guard-probe-", "")
        try:
            os.write(fd, b"probe")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise ReportWriteError(f"--output {directory}: cannot write there ({exc.strerror or exc})") from None
    finally:
        for made in created:  # deepest first
            with contextlib.suppress(OSError):
                made.rmdir()


def stage_reports(report: Report, directory: Path, formats: Sequence[str],
                  options: RenderOptions = DEFAULT) -> StagedReports:
    """Render every format to its own exclusively created temporary file (unique name, `O_EXCL`, never
    following a link) and flush it to disk, then the manifest of their digests; on any failure nothing is
    left behind."""
    staged = StagedReports(directory)
    stem = f"registry-guard-{report.kind}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        sweep_stale(directory, time.time())
        for name in [*dict.fromkeys(formats), None]:
            # None: the manifest, last, over what was written (read back from the disk).
            suffix = MANIFEST_SUFFIX if name is None else FORMATS[name][0]
            final = directory / f"{stem}{suffix}"
            if final.is_dir() and not final.is_symlink():
                raise ReportWriteError(f"{final}: cannot write report (a directory is in the way)")
            fd, tmp = _new_file(directory, f".{final.name}.", ".tmp")
            staged.files.append((Path(tmp), final))
            os.fchmod(fd, _FILE_MODE)  # mkstemp's 0600 would hide the reports from the job that ships them
            # newline="" so CSV's \r\n row ends are written as the csv module made them.
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                if name is None:
                    out.write(manifest([(f.name, _sha256(t)) for t, f in staged.files[:-1]]))
                elif name in STREAMING:
                    STREAMING[name](report, out)
                else:
                    out.write(render(report, name, options))
                out.flush()
                os.fsync(out.fileno())
    except OSError as exc:
        staged.discard()
        raise ReportWriteError(f"{directory}: cannot write reports ({exc.strerror or exc})") from None
    except BaseException:
        staged.discard()
        raise
    return staged


def _new_file(directory: Path, prefix: str, suffix: str) -> tuple[int, str]:
    """A new file in `directory` (mkstemp: unique, O_EXCL, mode 0600), making the directory if need be. Another
    run's output probe may remove the directory it found missing between our mkdir and our file: try again."""
    for _ in range(2):
        directory.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            return tempfile.mkstemp(dir=directory, prefix=prefix, suffix=suffix)
    directory.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=directory, prefix=prefix, suffix=suffix)


def sweep_stale(directory: Path, now: float) -> list[str]:
    """Remove staging and probe files left in `directory` by killed runs (older than STALE_AFTER_S at `now`);
    the names removed. Only regular files of our own naming; what cannot be removed stays."""
    removed = []
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            if not _STAGING.match(entry.name):
                continue
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and now - info.st_mtime > STALE_AFTER_S:
                    os.unlink(entry.path)
                    removed.append(entry.name)
    return removed


def write_reports(report: Report, directory: Path, formats: Sequence[str],
                  options: RenderOptions = DEFAULT) -> list[Path]:
    """Write every format and the manifest, all or none."""
    return [w.path for w in stage_reports(report, directory, formats, options).publish()]


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# What open() would have given the file: the process umask applied to 0666.
_FILE_MODE = 0o666 & ~_umask()


def _sync_directory(directory: Path) -> None:
    """Make the renames durable (a crash right after must not lose them)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
