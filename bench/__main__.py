"""`python -m bench`: the issue-6 benchmarks. Each runs the project and its comparison in the same run
on the same data and prints the ratio, so the figure holds on a noisy machine.

  python -m bench                      # all seven, full sizes (50 repos x 100 tags; 1k/10k/100k images;
                                       # 5,000 resources; an organization with 100/300/1,000 repositories;
                                       # 5,000 version tags, half signed)
  python -m bench --quick              # small sizes, < 2 minutes
  python -m bench --only 1,3 --repos 50 --tags 100
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .common import ROOT, loadavg, machine, steal_seconds, use_bytecode_cache, warm_bytecode

warnings.filterwarnings("ignore", category=FutureWarning, module="google.api_core")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--only", default="1,2,3,4,5,6,7", help="comma-separated benchmark numbers (default all)")
    p.add_argument("--quick", action="store_true", help="small sizes (3x10 registry, 1k/3k/10k images, 500 resources)")
    p.add_argument("--repos", type=int, help="registry repositories for 1-3 (default 50)")
    p.add_argument("--tags", type=int, help="version tags per repository for 1-3 (default 100)")
    p.add_argument("--concurrency", type=int, default=16, help="audit --concurrency on loopback (1, 2; default 16)")
    p.add_argument("--delay-ms", type=float, default=20.0, help="latency the proxy adds to each request (1, 3)")
    p.add_argument("--latency-concurrency", type=int, default=32, help="concurrency of the latency-bound scan (3)")
    p.add_argument("--rate-limit", type=float, default=500.0,
                   help="client-side requests/s for 3 (default 500 = half of AR's 60,000/min)")
    p.add_argument("--skopeo-jobs", type=int, default=1, help="skopeo inspects at a time (1: the usual shell loop)")
    p.add_argument("--repeat", type=int, help="alternated rounds of floor vs audit (2; default 3, quick 2)")
    p.add_argument("--sizes", help="image counts for 4, comma-separated (default 1000,10000,100000)")
    p.add_argument("--ar-repositories", type=int, default=10, help="repositories the images are spread over (4)")
    p.add_argument("--resources", type=int, help="resources through the policy pack (5; default 5000)")
    p.add_argument("--org-repositories", help="repositories of the organization for 6, comma-separated "
                   "(default 100,300,1000; quick 10,30,100 in a smaller organization)")
    p.add_argument("--signed-repos", type=int, help="repositories for 7 (default 50, quick 10)")
    p.add_argument("--signed-tags", type=int, help="version tags per repository for 7, half signed (default 100, "
                   "quick 20)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="JSON results and the plot")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    only = {int(x) for x in args.only.split(",") if x.strip()}
    quick = args.quick
    repos = args.repos or (3 if quick else 50)
    tags = args.tags or (10 if quick else 100)
    repeat = args.repeat or (2 if quick else 3)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([1000, 3000, 10000] if quick
                                                                       else [1000, 10000, 100000])
    count = args.resources or (500 if quick else 5000)
    args.out.mkdir(parents=True, exist_ok=True)
    info = machine()
    info["bytecode_cache"] = "PYTHONDONTWRITEBYTECODE was set: children use PYTHONPYCACHEPREFIX=bench/out/pycache" \
        if use_bytecode_cache() else "as configured"
    info["warm_up_s"] = round(warm_bytecode(), 2)
    print(f"machine: {info}", flush=True)
    results: dict[str, Any] = {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}}
    started = time.perf_counter()
    with ExitStack() as stack:
        reg: Any = None
        if only & {1, 2, 3}:
            from .estate import SeededRegistry

            reg = stack.enter_context(SeededRegistry(repos, tags))
            results["seed_s"] = reg.seed_seconds
        for number in sorted(only):
            print(f"\n== benchmark {number} (load average {loadavg()}) ==", flush=True)
            t0, steal0 = time.perf_counter(), steal_seconds()
            if number == 1:
                from . import b1_vs_skopeo
                res = b1_vs_skopeo.run(reg, delay=args.delay_ms / 1000, concurrency=args.concurrency,
                                       skopeo_jobs=args.skopeo_jobs, out=args.out)
            elif number == 2:
                from . import b2_floor
                res = b2_floor.run(reg, concurrency=args.concurrency, repeat=repeat, out=args.out)
            elif number == 3:
                from . import b3_latency
                res = b3_latency.run(reg, delay=args.delay_ms / 1000, concurrency=args.latency_concurrency,
                                     rate_limit=args.rate_limit, out=args.out)
            elif number == 4:
                from . import b4_scale
                res = b4_scale.run(sizes, repositories=args.ar_repositories, out=args.out)
            elif number == 5:
                from . import b5_policy
                res = b5_policy.run(count, out=args.out)
            elif number == 6:
                from . import b6_effective_access
                org_sizes = [int(s) for s in args.org_repositories.split(",")] if args.org_repositories else (
                    [10, 30, 100] if quick else [100, 300, 1000])
                res = b6_effective_access.run(org_sizes, out=args.out, quick=quick)
            elif number == 7:
                from . import b7_signatures
                res = b7_signatures.run(repos=args.signed_repos or (10 if quick else 50),
                                        tags=args.signed_tags or (20 if quick else 100), delay=args.delay_ms / 1000,
                                        concurrency=args.concurrency, repeat=repeat, out=args.out)
            else:
                print(f"no benchmark {number}", file=sys.stderr)
                return 2
            res["seconds"] = time.perf_counter() - t0
            res["loadavg_after"] = loadavg()
            # Wall figures run slow while the host gives this VM's CPU to others; say how much it did.
            res["steal_s"] = round(steal_seconds() - steal0, 1)
            print(f"  benchmark {number}: {res['seconds']:.0f} s, CPU stolen by the host meanwhile "
                  f"{res['steal_s']:.1f} s", flush=True)
            results[str(number)] = res
    results["total_s"] = time.perf_counter() - started
    results["loadavg_at_end"] = loadavg()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = args.out / f"results-{stamp}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    md = args.out / f"results-{stamp}.md"
    md.write_text(f"machine: {info}\n" + "\n".join(r["table"] for k, r in results.items()
                                                   if isinstance(r, dict) and "table" in r) + "\n")
    print(f"\nall done in {results['total_s']:.0f} s; load average now {loadavg()}; results: {path} and {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
