"""Benchmark 4: the whole audit process against the local Artifact Registry stand-in (the real
google-cloud-artifact-registry client over REST, paged at 1,000 images per page as the real API
allows) serving 1k / 10k / 100k images: wall time and peak RSS of the audit process (wait4)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from localdev.artifact_registry_fake import ArtifactRegistryFake, FakeEstate, SyntheticImages

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
    base_n, base_t = points[0][0], points[0][1]
    for n, wall, rss, cpu, pages in points:
        rows.append([f"{n:,}", pages, f"{wall:.2f} s", f"{cpu:.2f} s", f"{(wall - base_t) / max(1, n - base_n) * 1000:.3f} ms"
                     if n != base_n else "-", f"{rss:.0f} MB"])
    biggest = points[-1]
    mem_ok = biggest[2] < MEMORY_GOAL_MB
    # Linear time: the marginal cost per image between the two largest sizes vs the smaller step.
    lin = None
    if len(points) >= 3:
        (n1, t1, *_), (n2, t2, *_), (n3, t3, *_) = points[-3:]
        lin = ((t3 - t2) / (n3 - n2)) / ((t2 - t1) / (n2 - n1)) if t2 > t1 else None
    png, svg = out / "scale.png", out / "scale.svg"
    plot([p[0] for p in points], Series("TIME (S)", [p[1] for p in points], BLUE),
         Series("PEAK RSS (MB)", [p[2] for p in points], RED, limit=MEMORY_GOAL_MB),
         "DOCKER IMAGES IN ARTIFACT REGISTRY", png, svg, "python -m audit scan: time and peak memory vs size")
    result = {"points": [dict(zip(("images", "wall_s", "peak_rss_mb", "cpu_s", "image_pages"), p)) for p in points],
              "memory_goal_mb": MEMORY_GOAL_MB, "memory_met": mem_ok, "linearity": lin,
              "plot_png": str(png), "plot_svg": str(svg), "repositories": repositories}
    result["table"] = print_table(
        f"4. Scale and memory (Artifact Registry stand-in, {repositories} repositories, page size 1000; "
        f"peak RSS of the whole audit process)", rows,
        ["images", "image pages", "wall", "audit CPU", "marginal time per image", "peak RSS"])
    print(f"  peak memory at {biggest[0]:,}: {biggest[2]:.0f} MB (goal < {MEMORY_GOAL_MB:.0f} MB): {verdict(mem_ok)}; "
          f"marginal cost per image, last step / previous step: {lin if lin is None else f'{lin:.2f}'} "
          f"(1.0 = linear); plot: {png}", flush=True)
    return result
