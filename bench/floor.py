"""The physical floor: the audit's OCI requests, sent by the leanest client we can write, and nothing else.

Same requests as `audit.sources.oci` on a plain OCI registry: `GET /v2/_catalog?n=PAGE` (following
`Link`, falling back to `last=` on a full page), `GET /v2/<repo>/tags/list` per repository and
`HEAD /v2/<repo>/manifests/<tag>` per tag with the same `Accept` list: what the audit sends for a scan that
verifies no signatures and judges no image metadata (the benchmark's settings and `common.tag_scan_only`;
benchmark 7 measures what those add). Raw HTTP/1.1 over asyncio
streams, `concurrency` keep-alive connections, one worker per connection. No retries, no models, no
rules, no report: only stdlib imports, so process start is as cheap as Python allows.

    python -m bench.floor http://127.0.0.1:5000 --concurrency 16   # prints one JSON line
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from urllib.parse import quote, urljoin, urlsplit

ACCEPT = ("application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
          "application/vnd.docker.distribution.manifest.v2+json, "
          "application/vnd.docker.distribution.manifest.list.v2+json")
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


class Conn:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.hostheader = f"{host}:{port}".encode()

    async def request(self, method: str, target: str, accept: str) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(b"%s %s HTTP/1.1\r\nHost: %s\r\nAccept: %s\r\n\r\n"
                          % (method.encode(), target.encode(), self.hostheader, accept.encode()))
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        body = b""
        if method != "HEAD" and status not in (204, 304):
            if "content-length" in headers:
                body = await self.reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    chunk = await self.reader.readexactly(size + 2)
                    if size == 0:
                        break
                    body += chunk[:-2]
            else:
                body = await self.reader.read()
                self.writer.close()
                self.writer = None
        if headers.get("connection", "").lower() == "close" and self.writer is not None:
            self.writer.close()
            self.writer = None
        return status, headers, body


async def floor(url: str, concurrency: int = 16, page_size: int = 100) -> dict[str, int]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    conns = [Conn(host, port) for _ in range(concurrency)]
    requests = 0

    async def get(conn: Conn, target: str) -> tuple[int, dict[str, str], bytes]:
        nonlocal requests
        requests += 1
        return await conn.request("GET", target, "application/json")

    # Catalog, page by page (sequential, like the audit).
    repos: list[str] = []
    seen: set[str] = set()
    target: str | None = f"/v2/_catalog?n={page_size}"
    while target is not None:
        _, headers, body = await get(conns[0], target)
        names = json.loads(body).get("repositories") or []
        repos.extend(names)
        link = _LINK.search(headers.get("link", ""))
        if link:
            nxt = urlsplit(urljoin(url + target, link.group(1)))
            target = nxt.path + ("?" + nxt.query if nxt.query else "")
        elif len(names) >= page_size and set(names) - seen:
            target = f"/v2/_catalog?n={page_size}&last={quote(names[-1], safe='')}"
        else:
            target = None
        seen.update(names)

    queue: asyncio.Queue[tuple[str, str | None]] = asyncio.Queue()
    for repo in sorted(set(repos)):
        queue.put_nowait((repo, None))
    digests: set[str] = set()
    tags = 0
    pending = queue.qsize()
    done = asyncio.Event()
    if pending == 0:
        done.set()

    async def worker(conn: Conn) -> None:
        nonlocal requests, tags, pending
        while True:
            repo, tag = await queue.get()
            if tag is None:
                status, _, body = await get(conn, f"/v2/{quote(repo, safe='/')}/tags/list")
                listed = (json.loads(body).get("tags") or []) if status == 200 else []
                tags += len(listed)
                pending += len(listed)
                for t in listed:
                    queue.put_nowait((repo, t))
            else:
                requests += 1
                status, headers, _ = await conn.request(
                    "HEAD", f"/v2/{quote(repo, safe='/')}/manifests/{quote(tag, safe='')}", ACCEPT)
                if status == 200:
                    digests.add(headers.get("docker-content-digest", ""))
            pending -= 1
            if pending == 0:
                done.set()

    workers = [asyncio.create_task(worker(c)) for c in conns]
    await done.wait()
    for w in workers:
        w.cancel()
    for c in conns:
        if c.writer is not None:
            c.writer.close()
    return {"requests": requests, "repositories": len(set(repos)), "tags": tags, "digests": len(digests)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(floor(args.url, args.concurrency, args.page_size))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
