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
import contextlib
import signal
import subprocess
import sys
from types import TracebackType

from .common import PYTHON, ROOT


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((loop.time() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            queue.put_nowait((loop.time(), b""))

    async def write() -> None:
        try:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            return

    await asyncio.gather(read(), write())


async def _serve(target_host: str, target_port: int, delay: float, port: int) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(_pump(client_r, up_w, delay), _pump(up_r, client_w, 0.0))
        except (asyncio.CancelledError, ConnectionError, OSError):
            pass  # shutdown or a peer went away: nothing to report
        finally:
            for w in (up_w, client_w):
                with contextlib.suppress(Exception):
                    w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
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
