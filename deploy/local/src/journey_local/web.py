"""The web app's process: `python -m journey_web`, a client of the gateway like a browser's
curl, routed by Traefik at `/` (everything that is not `/api/...`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from journey_local.procs import spawn, stop, wait_for_port


class WebProcess:
    def __init__(self, port: int, env: dict[str, str], log_dir: Path) -> None:
        self.port = port
        self.env = env
        self.log = log_dir / "web.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self) -> subprocess.Popen[bytes]:
        return spawn([sys.executable, "-m", "journey_web", "--port", str(self.port)], log=self.log, env=self.env)

    def start(self) -> None:
        self.proc = self._spawn()

    def wait_ready(self) -> None:
        assert self.proc is not None
        wait_for_port(self.port, timeout=60, proc=self.proc)

    def restart_exited(self) -> list[str]:
        if self.proc is not None and self.proc.poll() is not None:
            line = f"web exited with {self.proc.returncode}"
            self.proc = self._spawn()
            return [line]
        return []

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None
