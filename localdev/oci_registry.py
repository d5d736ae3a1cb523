"""A real `docker-registry` (distribution 2.8.2) on 127.0.0.1, for tests, the demo and benchmarks.

Why not the Debian default config: it listens on all interfaces with htpasswd. This writes its
own temp config bound to loopback on a free port and stops the process by its pid.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Literal

import httpx
import yaml

REGISTRY_BINARY = "docker-registry"


def free_port() -> int:
    """A port that was free a moment ago (the registry cannot take port 0 and report it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalRegistry:
    """`with LocalRegistry() as reg: reg.url` -> "http://127.0.0.1:PORT"."""

    def __init__(self, *, storage: Literal["inmemory", "filesystem"] = "inmemory",
                 start_timeout: float = 10.0) -> None:
        self.storage = storage
        self.start_timeout = start_timeout
        self.port = 0
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def __repr__(self) -> str:
        return f"LocalRegistry(url={self.url!r}, storage={self.storage!r}, pid={self.pid})"

    def _config(self) -> dict[str, object]:
        assert self._tmp is not None
        storage: dict[str, object] = {"delete": {"enabled": True}, "cache": {"blobdescriptor": "inmemory"}}
        if self.storage == "inmemory":
            storage["inmemory"] = {}
        else:
            storage["filesystem"] = {"rootdirectory": str(self._tmp / "data")}
        return {
            "version": 0.1,
            "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": storage,
            "http": {"addr": self.host},
        }

    def start(self) -> LocalRegistry:
        if shutil.which(REGISTRY_BINARY) is None:
            raise RuntimeError(f"{REGISTRY_BINARY} not found: install the Debian package "
                               "docker-registry (./dev does)")
        self._tmp = Path(tempfile.mkdtemp(prefix="localreg-"))
        last_error = ""
        for _ in range(3):  # the free port can be taken between probing and binding
            self.port = free_port()
            cfg = self._tmp / "config.yml"
            cfg.write_text(yaml.safe_dump(self._config()))
            log = (self._tmp / "registry.log").open("wb")
            self._proc = subprocess.Popen([REGISTRY_BINARY, "serve", str(cfg)], stdout=log, stderr=log,
                                          stdin=subprocess.DEVNULL)
            log.close()
            if self._wait_ready():
                return self
            last_error = (self._tmp / "registry.log").read_text(errors="replace")[-2000:]
            self._stop_process()
        self.stop()
        raise RuntimeError(f"docker-registry did not start: {last_error}")

    def _wait_ready(self) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.url}/v2/", timeout=1.0).status_code in (200, 401):
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        return False

    def _stop_process(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def stop(self) -> None:
        self._stop_process()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
