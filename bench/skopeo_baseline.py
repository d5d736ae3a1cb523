"""The way teams take a registry inventory today: skopeo, one process per call.

For every repository `skopeo list-tags`, then for every tag `skopeo inspect --raw` and the digest
as sha256 of the raw manifest bytes (what the registry's Docker-Content-Digest is). Both with
`--tls-verify=false`, as for any plain-http registry. The repository names come from one
`GET /v2/_catalog` (skopeo has no catalog command). `--jobs N` runs N inspects at a time
(default 1: the usual shell loop).

    python -m bench.skopeo_baseline http://127.0.0.1:5000 --out inventory.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

SKOPEO = "skopeo"


def catalog(url: str) -> list[str]:
    names: list[str] = []
    target = f"{url}/v2/_catalog?n=1000"
    with urllib.request.urlopen(target, timeout=60) as resp:
        names.extend(json.load(resp).get("repositories") or [])
    return sorted(names)


def list_tags(host: str, repo: str) -> list[str]:
    out = subprocess.run([SKOPEO, "list-tags", "--tls-verify=false", f"docker://{host}/{repo}"],
                         check=True, capture_output=True).stdout
    return sorted(json.loads(out).get("Tags") or [])


def digest_of(host: str, repo: str, tag: str) -> str:
    raw = subprocess.run([SKOPEO, "inspect", "--raw", "--tls-verify=false", f"docker://{host}/{repo}:{tag}"],
                         check=True, capture_output=True).stdout
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def inventory(url: str, jobs: int = 1) -> dict[str, dict[str, str]]:
    host = urlsplit(url).netloc
    result: dict[str, dict[str, str]] = {}
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        for repo in catalog(url):
            tags = list_tags(host, repo)
            result[repo] = dict(zip(tags, pool.map(lambda t, r=repo: digest_of(host, r, t), tags), strict=True))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.skopeo_baseline", description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", help="write {repo: {tag: digest}} here")
    args = parser.parse_args(argv)
    inv = inventory(args.url.rstrip("/"), args.jobs)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(inv, fh)
    print(json.dumps({"repositories": len(inv), "tags": sum(len(t) for t in inv.values()),
                      "digests": len({d for t in inv.values() for d in t.values()})}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
