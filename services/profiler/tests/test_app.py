"""What every profiler answer has: probes, request ids, the body cap."""

from __future__ import annotations

from typing import Any

import httpx

from servicekit.testing import Users, problem

B = "/api/v1/profiler"


async def test_oversized_body_is_413(client: httpx.AsyncClient, users: Users, questionnaire: Any) -> None:
    headers = users.headers(users.new())
    session_id = await questionnaire.start(headers)
    response = await client.put(
        f"{B}/sessions/{session_id}/answers/career_dream", json={"value": "x" * 2_000_000}, headers=headers
    )
    problem(response, 413)


async def test_health_probes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "nats": True}
    spec = await client.get(f"{B}/openapi.json")
    assert spec.status_code == 200
    assert f"{B}/sessions/{{session_id}}/complete" in spec.json()["paths"]


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": "req-123"})
    assert response.headers["x-request-id"] == "req-123"
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
