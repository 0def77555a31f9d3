"""A student's profiler journey through Traefik, as a client does it."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from journey_local.stack import Stack

P = "/api/v1/profiler"


def test_the_profiler_journey_through_the_gateway(stack: Stack, example_answer: Any, auth_headers: Any) -> None:
    headers = auth_headers("e2e-student")
    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=10) as client:
        questions = client.get(f"{P}/questions")
        assert questions.status_code == 200
        # The gateway adds security headers to every answer.
        assert questions.headers["x-content-type-options"] == "nosniff"
        assert questions.headers["x-frame-options"] == "DENY"
        assert questions.headers["referrer-policy"] == "no-referrer"

        session = client.post(f"{P}/sessions", headers={"Idempotency-Key": "e2e-1"})
        assert session.status_code == 201
        session_id = session.json()["id"]

        for question in questions.json()["items"]:
            answer = client.put(
                f"{P}/sessions/{session_id}/answers/{question['id']}", json={"value": example_answer(question)}
            )
            assert answer.status_code == 200, answer.text

        bad = client.put(f"{P}/sessions/{session_id}/answers/study_focus", json={"value": 99})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"

        completed = client.post(f"{P}/sessions/{session_id}/complete")
        assert completed.status_code == 202
        persona_url = completed.headers["location"]

        deadline = time.monotonic() + 15
        while True:
            persona = client.get(persona_url)
            if persona.status_code == 200 or time.monotonic() > deadline:
                break
            assert persona.status_code == 202
            time.sleep(float(persona.headers["retry-after"]) / 4)
        assert persona.status_code == 200, persona.text
        content = persona.json()["content"]
        assert "my answer to career_dream" in content["letter"]

        current = client.get(f"{P}/personas/current")
        assert current.json()["id"] == persona.json()["id"]

        other = client.get(persona_url, headers=auth_headers("e2e-someone-else"))
        assert other.status_code == 404

    # Without a token the gateway passes the request and the service refuses it.
    unauthenticated = httpx.get(f"{stack.gateway_url}{P}/personas/current")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["content-type"] == "application/problem+json"


def assert_gateway_answer_like_any_other(response: httpx.Response, request_id: str) -> None:
    """The gateway's own refusals carry the same security headers and request id as any answer."""
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "server" not in response.headers
    assert response.headers["x-request-id"] == request_id


def test_the_gateway_rejects_large_bodies_as_problem_json(stack: Stack, auth_headers: Any) -> None:
    response = httpx.put(
        f"{stack.gateway_url}{P}/sessions/00000000-0000-0000-0000-000000000000/answers/career_dream",
        content=json.dumps({"value": "x" * 200_000}),
        headers={**auth_headers("e2e-big"), "Content-Type": "application/json", "X-Request-Id": "e2e-413"},
    )
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert_gateway_answer_like_any_other(response, "e2e-413")


def test_the_gateway_writes_json_access_logs(stack: Stack) -> None:
    httpx.get(f"{stack.gateway_url}{P}/questions", headers={"X-Request-Id": "e2e-access-log"})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = stack.traefik.access_log.read_text().splitlines() if stack.traefik.access_log.exists() else []
        entries = [json.loads(line) for line in lines if line.strip()]
        if any(e.get("request_X-Request-Id") == "e2e-access-log" for e in entries):
            return
        time.sleep(0.2)
    raise AssertionError("the request did not reach the access log")


def test_the_gateway_rate_limits_per_client(stack: Stack) -> None:
    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=stack.gateway_url) as client:
            return await asyncio.gather(
                *(client.get("/api/v1/profiler/questions", headers={"X-Request-Id": f"burst-{i}"}) for i in range(200))
            )

    responses = asyncio.run(burst())
    limited = [r for r in responses if r.status_code == 429]
    assert limited, "a burst over the limit must be refused"
    assert any(r.status_code == 401 for r in responses)  # what got through reached the service
    assert {r.headers["content-type"] for r in limited} == {"application/problem+json"}
    assert limited[0].json()["status"] == 429
    request_id = limited[0].request.headers["x-request-id"]
    assert_gateway_answer_like_any_other(limited[0], request_id)
    time.sleep(2)  # let the bucket refill for whatever runs next
