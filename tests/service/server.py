"""Start ``digicomp serve`` as a real process (uvicorn workers) for the browser and load tests; stop it by its pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """``digicomp serve`` on a free loopback port with ``workers`` processes over ``store``."""

    def __init__(
        self, store: str, workers: int = 1, config: Path | None = None, log: Path | None = None, debug: bool = False
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "digicomp.cli", "serve", "--store", store, "--port", str(self.port)]
        cmd += ["--workers", str(workers), "--log-level", "debug" if debug else "warning"]
        if config is not None:
            cmd += ["--config", str(config)]
        env = {**os.environ, "DIGICOMP_SECRET": "t" * 40}
        self._log = open(log or os.devnull, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"digicomp serve exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("digicomp serve did not answer within the timeout")

    def worker_pids(self, expect: int = 0, timeout: float = 30.0) -> list[int]:
        """The uvicorn worker processes (children of the parent process), waiting until ``expect`` are up."""
        deadline = time.monotonic() + timeout
        while True:
            out = subprocess.run(
                ["ps", "-ww", "-o", "pid=,args=", "--ppid", str(self.proc.pid)],
                capture_output=True,
                text=True,
                check=False,
            )
            rows = [line.split(None, 1) for line in out.stdout.splitlines() if line.strip()]
            pids = [int(pid) for pid, args in rows if "spawn_main" in args]
            if len(pids) >= expect or time.monotonic() > deadline:
                return pids
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own process group: the parent and its workers only
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
