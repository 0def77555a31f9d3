"""Real PostgreSQL and NATS JetStream for the whole test session, from the same wheels
`make run` uses (no Docker). Each service's tests add their own app/worker fixtures."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from journey_local.dev_secrets import DevSecrets
from journey_local.nats import EmbeddedNats
from journey_local.postgres import EmbeddedPostgres
from journey_local.procs import free_port
from journey_local.services import SERVICES, prepare, role_dsn
from journey_local.stack import Stack, StackConfig
from tests.e2e.compose_stack import EXTRA_ENV, MAX_BODY_BYTES, RATE_AVERAGE, RATE_BURST, compose_stack

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


# The whole stack as `make run` starts it (own PostgreSQL, NATS, services, workers, the web app,
# Traefik) on free ports in a temporary folder: one for tests/e2e and tests/browser together.
# With E2E_STACK=compose, deploy/compose through testcontainers instead (tests/e2e/compose_stack.py).
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
