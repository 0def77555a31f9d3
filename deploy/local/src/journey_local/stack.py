"""The whole stack in one object: used by `make run` and by the e2e test fixtures."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from journey_local.dev_secrets import DevSecrets
from journey_local.nats import EmbeddedNats
from journey_local.postgres import EmbeddedPostgres
from journey_local.procs import free_port, port_in_use
from journey_local.services import SERVICES, ServiceProcesses, prepare, service_env
from journey_local.traefik import EmbeddedTraefik
from journey_local.web import WebProcess

WEB_PORT = 8110


@dataclass
class StackConfig:
    data_dir: Path
    gateway_port: int = 8080
    gateway_metrics_port: int = 8082
    postgres_port: int = 54329
    nats_port: int = 42229
    service_ports: dict[str, int] = field(default_factory=lambda: {s.name: s.default_port for s in SERVICES})
    # Prometheus ports of each service's API and worker: 9101/9201 beside profiler's 8101, and so on.
    metrics_ports: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {s.name: (s.default_port + 1000, s.default_port + 1100) for s in SERVICES}
    )
    web_port: int = WEB_PORT
    database_url: str | None = None  # an external server's admin URL; embedded when unset
    nats_url: str | None = None
    rate_average: int = 100
    rate_burst: int = 200
    # The gateway's body cap on buffered routes; every service still caps each route itself.
    # Streaming paths (missions' uploads, up to 15 MiB of files) pass unbuffered, capped by their route.
    max_body_bytes: int = 10 * 1024 * 1024
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def on_free_ports(cls, data_dir: Path, **overrides: Any) -> StackConfig:
        """A stack beside any other (tests, fuzzing, benches): every port picked free."""
        ports = {
            "gateway_port": free_port(),
            "gateway_metrics_port": free_port(),
            "metrics_ports": {spec.name: (free_port(), free_port()) for spec in SERVICES},
            "postgres_port": free_port(),
            "nats_port": free_port(),
            "service_ports": {spec.name: free_port() for spec in SERVICES},
            "web_port": free_port(),
        }
        return cls(data_dir=data_dir, **{**ports, **overrides})

    @classmethod
    def from_env(cls, data_dir: Path) -> StackConfig:
        return cls(
            data_dir=data_dir,
            gateway_port=int(os.environ.get("GATEWAY_PORT", "8080")),
            gateway_metrics_port=int(os.environ.get("GATEWAY_METRICS_PORT", "8082")),
            postgres_port=int(os.environ.get("POSTGRES_PORT", "54329")),
            nats_port=int(os.environ.get("NATS_PORT", "42229")),
            web_port=int(os.environ.get("WEB_PORT", str(WEB_PORT))),
            database_url=os.environ.get("DATABASE_URL") or None,
            nats_url=os.environ.get("NATS_URL") or None,
            rate_average=int(os.environ.get("GATEWAY_RATE_AVERAGE", "100")),
            rate_burst=int(os.environ.get("GATEWAY_RATE_BURST", "200")),
        )


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        data = config.data_dir.resolve()
        self.postgres = None if config.database_url else EmbeddedPostgres(data / "postgres", config.postgres_port)
        self.nats = None if config.nats_url else EmbeddedNats(data / "nats", config.nats_port)
        self.admin_dsn = config.database_url or (self.postgres.admin_dsn if self.postgres else "")
        self.nats_url = config.nats_url or (self.nats.url if self.nats else "")
        self.secrets = DevSecrets.load_or_create(data)
        self.services = [
            ServiceProcesses(
                spec,
                config.service_ports[spec.name],
                service_env(
                    spec,
                    self.admin_dsn,
                    self.nats_url,
                    {
                        "PUBLIC_BASE_URL": self.gateway_url_for(config),
                        "DATA_DIR": str(data),  # where a service keeps files (missions' submissions)
                        "METRICS_PORT": str(config.metrics_ports[spec.name][0]),
                        "WORKER_METRICS_PORT": str(config.metrics_ports[spec.name][1]),
                        **self.secrets.env(),
                        **config.extra_env,
                    },
                ),
                data / "logs",
            )
            for spec in SERVICES
        ]
        gateway = self.gateway_url_for(config)
        # The web app calls the APIs through the gateway, and the browser reaches it there too.
        web_env = {"GATEWAY_URL": gateway, "PUBLIC_BASE_URL": gateway, **self.secrets.env(), **config.extra_env}
        self.web = WebProcess(config.web_port, web_env, data / "logs")
        values = {
            "RATE_AVERAGE": str(config.rate_average),
            "RATE_BURST": str(config.rate_burst),
            "MAX_BODY_BYTES": str(config.max_body_bytes),
        }
        urls = {s.spec.name: s.url for s in self.services}
        streaming = {s.spec.name: s.spec.streaming_paths for s in self.services if s.spec.streaming_paths}
        own_429 = {s.spec.name: s.spec.own_429_paths for s in self.services if s.spec.own_429_paths}
        self.traefik = EmbeddedTraefik(
            data / "gateway",
            config.gateway_port,
            config.gateway_metrics_port,
            values,
            urls,
            streaming,
            own_429,
            self.web.url,
        )

    @staticmethod
    def gateway_url_for(config: StackConfig) -> str:
        return f"http://127.0.0.1:{config.gateway_port}"

    @property
    def gateway_url(self) -> str:
        return self.traefik.url

    def metrics_endpoints(self) -> dict[str, str]:
        """Where Prometheus scrapes each process (deploy/observability/prometheus-local.yml)."""
        endpoints = {"gateway": self.traefik.metrics_url}
        for service in self.services:
            api, worker = self.config.metrics_ports[service.spec.name]
            endpoints[f"{service.spec.name}-api"] = f"http://127.0.0.1:{api}/metrics"
            endpoints[f"{service.spec.name}-worker"] = f"http://127.0.0.1:{worker}/metrics"
        return endpoints

    def start_infrastructure(self) -> None:
        if self.postgres:
            self.postgres.start()
        if self.nats:
            self.nats.start()
        for service in self.services:
            prepare(service.spec, self.admin_dsn, self.secrets.env())

    def busy_ports(self) -> list[int]:
        ports = [
            self.config.gateway_port,
            self.config.gateway_metrics_port,
            self.web.port,
            *(s.port for s in self.services),
        ]
        ports += [port for pair in self.config.metrics_ports.values() for port in pair]
        if self.postgres:
            ports.append(self.postgres.port)
        if self.nats:
            ports.append(self.nats.port)
        return [p for p in ports if port_in_use(p)]

    def supervise(self) -> list[str]:
        """Restart any service process that died (a crashed worker loses nothing: JetStream redelivers)."""
        return [line for service in self.services for line in service.restart_exited()] + self.web.restart_exited()

    def start(self) -> None:
        busy = self.busy_ports()
        if busy:
            raise RuntimeError(f"ports already in use: {busy} (is another `make run` going?)")
        try:
            self.start_infrastructure()
            for service in self.services:
                service.start()
            self.web.start()
            for service in self.services:
                service.wait_ready()
            self.web.wait_ready()
            self.traefik.start()
            self.wait_gateway()
        except BaseException:
            self.stop()
            raise

    def wait_gateway(self, timeout: float = 30.0) -> None:
        """Ready when every service answers /readyz through its own port and Traefik routes."""
        deadline = time.monotonic() + timeout
        pending = list(self.services)
        while pending:
            try:
                if httpx.get(f"{pending[0].url}/readyz", timeout=2).status_code == 200:
                    pending.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pending[0].spec.name} did not become ready")
            time.sleep(0.2)
        while True:
            try:
                api = httpx.get(f"{self.gateway_url}/api/v1/profiler/questions", timeout=2).status_code
                if api == 401 and httpx.get(f"{self.gateway_url}/signin", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the gateway did not start routing")
            time.sleep(0.2)

    def stop(self) -> None:
        self.traefik.stop()
        self.web.stop()
        for service in self.services:
            service.stop()
        if self.nats:
            self.nats.stop()
        if self.postgres:
            try:
                self.postgres.stop()
            except Exception as exc:  # already stopped
                print(f"postgres stop: {exc}")
