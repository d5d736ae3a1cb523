"""Benchmark 4: the whole audit process against the local Artifact Registry stand-in (the real
google-cloud-artifact-registry client over REST, paged at 1,000 images per page as the real API
allows) serving 1k / 10k / 100k images: wall time and peak RSS of the audit process (wait4)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from localdev.artifact_registry import ArtifactRegistryFake, FakeEstate, SyntheticImages

from .common import audit_scan_argv, print_table, run_process, settings_file, verdict
from .plot import BLUE, RED, Series, plot

MEMORY_GOAL_MB = 300.0
PROJECT, LOCATION = "bench-project", "us-central1"


def _estate(images: int, repositories: int) -> FakeEstate:
    estate = FakeEstate()
    per_repo, extra = divmod(images, repositories)
    for r in range(repositories):
        repo = estate.add_repository(PROJECT, LOCATION, f"models-{r:02d}", immutable_tags=True,
                                     labels={"owner": "ml-platform", "model": f"m{r}"})
        estate.add_images(repo, SyntheticImages(per_repo + (1 if r < extra else 0), seed=f"r{r}"))
    return estate


def run(sizes: list[int], *, repositories: int, out: Path) -> dict[str, Any]:
    rows, points = [], []
    with tempfile.TemporaryDirectory(prefix="bench4-") as tmp:
        tmpdir = Path(tmp)
        settings = settings_file(tmpdir)
        with ArtifactRegistryFake(_estate(min(sizes), repositories)) as fake:  # untimed warm-up
            run_process(audit_scan_argv(["--project", PROJECT, "--location", LOCATION,
                                         "--artifact-registry-endpoint", fake.endpoint], tmpdir / "warm", settings),
                        ok_codes=(0, 1))
        for n in sizes:
            with ArtifactRegistryFake(_estate(n, repositories)) as fake:
                import json

                run_ = run_process(audit_scan_argv(
                    ["--project", PROJECT, "--location", LOCATION, "--artifact-registry-endpoint", fake.endpoint],
                    tmpdir / f"r{n}", settings), ok_codes=(0, 1))
                doc = json.loads((tmpdir / f"r{n}" / "registry-guard-scan.json").read_text())
                pages = sum(1 for r in fake.requests if r.path.endswith("/dockerImages"))
            if not doc["complete"] or doc["inventory"]["images"] != n:
                raise RuntimeError(f"{n} images: report incomplete or wrong count {doc['inventory']['images']}")
            points.append((n, run_.wall, run_.peak_rss_mb, run_.cpu, pages))
            print(f"  {n} images: {run_.wall:.2f} s, peak RSS {run_.peak_rss_mb:.0f} MB, {pages} image pages, "
                  f"timings {doc['timings']}", flush=True)
    # Linear time: least-squares t = a + b*n; a is the fixed cost (process start, imports, one
    # ListRepositories + GetIamPolicy per repository), b the cost per image; residuals say how straight.
    ns, ts = [p[0] for p in points], [p[1] for p in points]
    mean_n, mean_t = sum(ns) / len(ns), sum(ts) / len(ts)
    var = sum((n - mean_n) ** 2 for n in ns)
    slope = sum((n - mean_n) * (t - mean_t) for n, t in zip(ns, ts, strict=True)) / var if var else 0.0
    intercept = mean_t - slope * mean_n
    for n, wall, rss, cpu, pages in points:
        fit = intercept + slope * n
        rows.append([f"{n:,}", pages, f"{wall:.2f} s", f"{cpu:.2f} s", f"{fit:.2f} s ({(wall - fit) / fit:+.0%})",
                     f"{rss:.0f} MB"])
    biggest = points[-1]
    mem_ok = biggest[2] < MEMORY_GOAL_MB
    lin = {"fixed_s": intercept, "per_1000_images_s": slope * 1000,
           "max_residual": max(abs(t - (intercept + slope * n)) / (intercept + slope * n)
                               for n, t in zip(ns, ts, strict=True))}
    png, svg = out / "scale.png", out / "scale.svg"
    plot([p[0] for p in points], Series("TIME (S)", [p[1] for p in points], BLUE),
         Series("PEAK RSS (MB)", [p[2] for p in points], RED, limit=MEMORY_GOAL_MB),
         "DOCKER IMAGES IN ARTIFACT REGISTRY", png, svg, "python -m audit scan: time and peak memory vs size")
    keys = ("images", "wall_s", "peak_rss_mb", "cpu_s", "image_pages")
    result = {"points": [dict(zip(keys, p, strict=True)) for p in points],
              "memory_goal_mb": MEMORY_GOAL_MB, "memory_met": mem_ok, "linearity": lin,
              "plot_png": str(png), "plot_svg": str(svg), "repositories": repositories}
    result["table"] = print_table(
        f"4. Scale and memory (Artifact Registry stand-in, {repositories} repositories, page size 1000; "
        f"peak RSS of the whole audit process)", rows,
        ["images", "image pages", "wall", "audit CPU", "linear fit (residual)", "peak RSS"])
    print(f"  peak memory at {biggest[0]:,}: {biggest[2]:.0f} MB (goal < {MEMORY_GOAL_MB:.0f} MB): {verdict(mem_ok)}; "
          f"time = {intercept:.2f} s + {slope * 1000:.2f} s per 1,000 images (largest residual "
          f"{lin['max_residual']:.0%}); plot: {png} (+ .svg)", flush=True)
    return result
