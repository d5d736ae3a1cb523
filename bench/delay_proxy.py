"""A loopback TCP proxy that holds every request ~20 ms, as a registry in another region would.

Each chunk the client sends is forwarded `delay` seconds after it arrived (a one-way delay line:
order kept, no cumulative queueing); responses come straight back. Connections are independent
tasks, so keep-alive and any number of concurrent connections work, and it is protocol-agnostic
(httpx, the floor client and skopeo all go through it unchanged).

Runs in its own process so its CPU does not share a GIL with what is measured:
    python -m bench.delay_proxy --target 127.0.0.1:5000 --delay-ms 20   # prints the port, then serves
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import signal
import subprocess
import sys
from types import TracebackType

from .common import PYTHON, ROOT


class _Side(asyncio.Protocol):
    """One end of a proxied connection. Bytes it receives go to `peer` after `delay` seconds: a
    FIFO of (due, data) drained by one timer, so chunks keep their order. asyncio Protocols, not
    streams: the proxy stands in for network latency, which costs the box no CPU in reality, so
    it must be as cheap as possible here."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.peer: _Side | None = None
        self.queue: collections.deque[tuple[float, bytes | None]] = collections.deque()
        self.timer: asyncio.TimerHandle | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._push(data)

    def eof_received(self) -> bool:
        self._push(None)
        return True  # keep our write side open until the peer is done

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
        if self.peer is not None and self.peer.transport is not None and not self.peer.closed:
            self.peer.transport.close()

    def _push(self, data: bytes | None) -> None:
        if self.delay <= 0 and not self.queue and self._ready():
            self._deliver(data)
            return
        self.queue.append((self.loop.time() + self.delay, data))
        if self.timer is None:
            self.timer = self.loop.call_at(self.queue[0][0], self._flush)

    def _ready(self) -> bool:
        return self.peer is not None and self.peer.transport is not None and not self.peer.closed

    def _flush(self) -> None:
        self.timer = None
        if not self._ready():
            if not self.closed and (self.peer is None or not self.peer.closed):
                self.timer = self.loop.call_later(0.001, self._flush)  # upstream still connecting
            return
        now = self.loop.time()
        while self.queue and self.queue[0][0] <= now:
            self._deliver(self.queue.popleft()[1])
        if self.queue:
            self.timer = self.loop.call_at(self.queue[0][0], self._flush)

    def _deliver(self, data: bytes | None) -> None:
        peer = self.peer
        assert peer is not None and peer.transport is not None
        if data is None:
            if peer.transport.can_write_eof():
                peer.transport.write_eof()
        else:
            peer.transport.write(data)


async def _serve(target_host: str, target_port: int, delay: float, port: int) -> None:
    loop = asyncio.get_running_loop()

    class Downstream(_Side):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self.connecting = loop.create_task(self._connect())

        async def _connect(self) -> None:
            try:
                _, upstream = await loop.create_connection(lambda: _Side(0.0), target_host, target_port)
            except OSError:
                if self.transport is not None:
                    self.transport.close()
                return
            upstream.peer, self.peer = self, upstream

    server = await loop.create_server(lambda: Downstream(delay), "127.0.0.1", port, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


class DelayProxy:
    """`with DelayProxy("127.0.0.1", 5000, 0.02) as p: p.url` — the proxy in a child process."""

    def __init__(self, target_host: str, target_port: int, delay: float) -> None:
        self.target = (target_host, target_port)
        self.delay = delay
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> DelayProxy:
        self._proc = subprocess.Popen(
            [PYTHON, "-m", "bench.delay_proxy", "--target", f"{self.target[0]}:{self.target[1]}",
             "--delay-ms", str(self.delay * 1000)],
            cwd=ROOT, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.strip():
            self.stop()
            raise RuntimeError("delay proxy did not start")
        self.port = int(line)
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> DelayProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.delay_proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, metavar="HOST:PORT")
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the target must be on loopback")
    asyncio.run(_serve(host, int(port), args.delay_ms / 1000, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
