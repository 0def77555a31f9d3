"""Every Journey service the stack runs (found from their definitions, never listed here):
migrations, seeds, API and worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from journey_local.procs import spawn, stop, wait_for_port
from servicekit.service import ServiceDefinition, discover

ServiceSpec = ServiceDefinition[Any]
SERVICES: tuple[ServiceSpec, ...] = tuple(discover())


def role_dsn(admin_dsn: str, role: str) -> str:
    """The same server and database as the admin URL, as another role."""
    parts = urlsplit(admin_dsn)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{role}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def service_env(
    spec: ServiceSpec, admin_dsn: str, nats_url: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {
        "DATABASE_URL": role_dsn(admin_dsn, f"{spec.name}_app"),
        "WORKER_DATABASE_URL": role_dsn(admin_dsn, f"{spec.name}_worker"),
        "ADMIN_DATABASE_URL": admin_dsn,
        "NATS_URL": nats_url,
    }
    if spec.system_role:
        env["SYSTEM_DATABASE_URL"] = role_dsn(admin_dsn, f"{spec.name}_system")
    return {**env, **(extra or {})}


def prepare(spec: ServiceSpec, admin_dsn: str, extra: dict[str, str] | None = None) -> None:
    """Migrate and seed; both are idempotent, so every start runs them."""
    env = {"ADMIN_DATABASE_URL": admin_dsn, **(extra or {})}
    commands = ["migrate", "seed"] if spec.seed is not None else ["migrate"]
    for command in commands:
        subprocess.run([sys.executable, "-m", spec.name, command], check=True, env={**os.environ, **env})


class ServiceProcesses:
    """The API (uvicorn) and worker processes of one service."""

    def __init__(self, spec: ServiceSpec, port: int, env: dict[str, str], log_dir: Path) -> None:
        self.spec = spec
        self.port = port
        self.env = env
        self.log_dir = log_dir
        self.api: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn_worker(self) -> subprocess.Popen[bytes]:
        log = self.log_dir / f"{self.spec.name}-worker.log"
        return spawn([sys.executable, "-m", self.spec.name, "worker"], log=log, env=self.env)

    def _spawn_api(self) -> subprocess.Popen[bytes]:
        log = self.log_dir / f"{self.spec.name}-api.log"
        return spawn([sys.executable, "-m", self.spec.name, "api", "--port", str(self.port)], log=log, env=self.env)

    def start(self) -> None:
        self.worker = self._spawn_worker()
        self.api = self._spawn_api()

    def wait_ready(self) -> None:
        assert self.api is not None
        wait_for_port(self.port, timeout=60, proc=self.api)

    def restart_exited(self) -> list[str]:
        """Start again whichever process died; returns what was restarted and why."""
        restarted = []
        if self.worker is not None and self.worker.poll() is not None:
            restarted.append(f"{self.spec.name} worker exited with {self.worker.returncode}")
            self.worker = self._spawn_worker()
        if self.api is not None and self.api.poll() is not None:
            restarted.append(f"{self.spec.name} api exited with {self.api.returncode}")
            self.api = self._spawn_api()
        return restarted

    def stop(self) -> None:
        for proc in (self.api, self.worker):
            if proc is not None:
                stop(proc)
