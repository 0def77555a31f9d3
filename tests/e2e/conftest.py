"""The whole stack as `make run` starts it (own PostgreSQL, NATS, services, workers,
Traefik) on free ports in a temporary folder."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from journey_local.stack import Stack, StackConfig


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    root = Path(tempfile.mkdtemp(prefix="journey-e2e-"))
    config = StackConfig.on_free_ports(
        root,
        rate_average=40,
        rate_burst=80,
        max_body_bytes=64 * 1024,
        # Missions' per-file cap, small enough to reach with a small file (its own 413 through the gateway).
        extra_env={"MAX_FILE_BYTES": str(32 * 1024)},
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


def _example_answer(question: dict[str, Any]) -> Any:
    """A valid answer to any question of the bank, as a client would build it from GET /questions."""
    kind = question["kind"]
    if kind == "single_choice":
        return question["options"][-1]["value"]
    if kind == "multiple_choice":
        return [o["value"] for o in question["options"][:2]]
    if kind == "scale":
        return question["scale_max"]
    return f"my answer to {question['id']}"


@pytest.fixture(scope="session")
def example_answer() -> Callable[[dict[str, Any]], Any]:
    return _example_answer


@pytest.fixture(scope="session")
def auth_headers(stack: Stack) -> Callable[[str], dict[str, str]]:
    """Bearer headers for a development user, as `make token USER=<name>` mints them."""

    def headers(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {stack.secrets.mint_token(name)}"}

    return headers
