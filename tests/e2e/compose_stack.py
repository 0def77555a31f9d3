"""The e2e stack as deploy/compose/compose.yaml through testcontainers (`E2E_STACK=compose`,
`make e2e-compose`): it needs a Docker engine and skips, saying so, without one. The root
conftest's `stack` fixture hands it out in place of the embedded stack; the same tests run on both."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from journey_local.dev_secrets import DevSecrets
from journey_local.procs import free_port
from journey_local.services import SERVICES

# The e2e stack's gateway limits, the same for the embedded and the compose stack.
RATE_AVERAGE, RATE_BURST = 40, 80
MAX_BODY_BYTES = 64 * 1024
# Missions' per-file cap, small enough to reach with a small file (its own 413 through the gateway).
EXTRA_ENV = {"MAX_FILE_BYTES": str(32 * 1024)}
COMPOSE_DIR = Path(__file__).resolve().parents[2] / "deploy" / "compose"


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
        compose_file_name=[str(COMPOSE_DIR / "compose.yaml"), str(Path(__file__).with_name("compose.e2e.yaml"))],
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
