"""Real PostgreSQL and NATS JetStream for the whole test session, from the same wheels
`make run` uses (no Docker). Each service's tests add their own app/worker fixtures."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from journey_local.dev_secrets import DevSecrets
from journey_local.nats import EmbeddedNats
from journey_local.postgres import EmbeddedPostgres
from journey_local.procs import free_port
from journey_local.services import SERVICES, prepare, role_dsn
from journey_local.stack import Stack, StackConfig
from servicekit.testing import recorded_spans

# Settings fail closed (unset means production), so the tests say which environment they are,
# with secrets of their own; a stack started by a test gets its data directory's secrets instead.
os.environ.update({**DevSecrets.generate().env(), "ENVIRONMENT": "test"})


@dataclass
class Infra:
    postgres: EmbeddedPostgres
    nats: EmbeddedNats
    root: Path

    @property
    def admin_dsn(self) -> str:
        return self.postgres.admin_dsn

    @property
    def nats_url(self) -> str:
        return self.nats.url

    def dsn(self, role: str) -> str:
        return role_dsn(self.admin_dsn, role)


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    root = Path(tempfile.mkdtemp(prefix="journey-test-"))
    postgres = EmbeddedPostgres(root / "postgres", free_port())
    nats = EmbeddedNats(root / "nats", free_port())
    postgres.start()
    nats.start()
    for spec in SERVICES:  # the same migrate + seed commands `make run` uses
        prepare(spec, postgres.admin_dsn)
    try:
        yield Infra(postgres, nats, root)
    finally:
        nats.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


# The e2e stack's gateway limits, the same for the embedded and the compose stack.
RATE_AVERAGE, RATE_BURST = 40, 80
MAX_BODY_BYTES = 64 * 1024
# Missions' per-file cap, small enough to reach with a small file (its own 413 through the gateway).
EXTRA_ENV = {"MAX_FILE_BYTES": str(32 * 1024)}
COMPOSE_DIR = Path(__file__).resolve().parent / "deploy" / "compose"
E2E_DIR = Path(__file__).resolve().parent / "tests" / "e2e"


@dataclass
class _ComposeConfig:
    data_dir: Path
    extra_env: dict[str, str] = field(default_factory=lambda: dict(EXTRA_ENV))


@dataclass
class _ComposeGateway:
    access_log: Path


@dataclass
class ComposeStack:
    """What the tests use of a `Stack`, for the compose deployment."""

    gateway_url: str
    secrets: DevSecrets
    config: _ComposeConfig
    traefik: _ComposeGateway


def docker_engine_missing() -> str | None:
    """Why the compose stack cannot run here, or None when a Docker engine answers."""
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:
        return f"no Docker engine: E2E_STACK=compose needs one ({type(exc).__name__}: {exc})"
    return None


def compose_stack(request: pytest.FixtureRequest) -> Iterator[ComposeStack]:
    reason = docker_engine_missing()
    if reason:
        pytest.skip(reason)
    from testcontainers.compose import DockerCompose

    from journey_local.compose_files import env_file, secret_values

    root = Path(tempfile.mkdtemp(prefix="journey-e2e-compose-"))
    for sub in ("gateway", "data"):
        (root / sub).mkdir()
        (root / sub).chmod(0o777)  # written by the containers' own users
    secrets = DevSecrets.generate()
    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    settings = {
        "GATEWAY_PORT": str(port),
        "PUBLIC_BASE_URL": gateway_url,
        "GATEWAY_RATE_AVERAGE": str(RATE_AVERAGE),
        "GATEWAY_RATE_BURST": str(RATE_BURST),
        "GATEWAY_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
        "E2E_DIR": str(root),
        "E2E_MAX_FILE_BYTES": EXTRA_ENV["MAX_FILE_BYTES"],
    }
    env = root / "e2e.env"
    env.write_text(env_file(secret_values(secrets)) + "".join(f"{k}={v}\n" for k, v in settings.items()))
    compose = DockerCompose(
        COMPOSE_DIR,
        compose_file_name=[str(COMPOSE_DIR / "compose.yaml"), str(E2E_DIR / "compose.e2e.yaml")],
        env_file=str(env),
        build=True,
        wait=False,  # one-shot migrate services exit; readiness is checked through the gateway below
    )
    compose.start()
    try:
        _wait_routed(gateway_url)
        yield ComposeStack(
            gateway_url, secrets, _ComposeConfig(root / "data"), _ComposeGateway(root / "gateway" / "access.log")
        )
    finally:
        if request.session.testsfailed:
            stdout, stderr = compose.get_logs()
            print(
                "\n===== docker compose logs (last 200 lines) =====\n"
                + "\n".join((stdout + stderr).splitlines()[-200:])
            )
        compose.stop()
        shutil.rmtree(root, ignore_errors=True)


def _wait_routed(gateway_url: str, timeout: float = 300.0) -> None:
    """Every service's OpenAPI document answers through the gateway (development serves them)."""
    deadline = time.monotonic() + timeout
    pending = [spec.prefix for spec in SERVICES]
    while pending:
        try:
            if httpx.get(f"{gateway_url}{pending[0]}/openapi.json", timeout=5).status_code == 200:
                pending.pop(0)
                continue
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{pending[0]} was not routed within {timeout}s")
        time.sleep(1)


# The whole stack as `make run` starts it (own PostgreSQL, NATS, services, workers, the web app,
# Traefik) on free ports in a temporary folder: one for tests/e2e and tests/browser together.
# With E2E_STACK=compose, deploy/compose through testcontainers instead (compose_stack below).
@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Any]:
    if os.environ.get("E2E_STACK", "embedded") == "compose":
        yield from compose_stack(request)
        return
    root = Path(tempfile.mkdtemp(prefix="journey-e2e-"))
    config = StackConfig.on_free_ports(
        root,
        rate_average=RATE_AVERAGE,
        rate_burst=RATE_BURST,
        max_body_bytes=MAX_BODY_BYTES,
        extra_env=EXTRA_ENV,
    )
    running = Stack(config)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        if request.session.testsfailed:
            for log in sorted((root / "logs").glob("*.log")):
                lines = log.read_text(errors="replace").splitlines()[-40:]
                print(f"\n===== {log.name} (last {len(lines)} lines) =====\n" + "\n".join(lines))
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def auth_headers(stack: Any) -> Callable[[str], dict[str, str]]:
    """Bearer headers for a development user, as `make token USER=<name>` mints them."""

    def headers(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {stack.secrets.mint_token(name)}"}

    return headers


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for one test, every finished span kept in memory (servicekit.testing)."""
    with recorded_spans() as exporter:
        yield exporter
