"""The body cap (the framework's per-route `max_body_size`, and the guard's bounded read of
JSON bodies) and the request id, on an app the factory builds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel

from servicekit.app import create_app
from servicekit.middleware import ServiceMiddleware
from servicekit.settings import ServiceSettings


class Blob(BaseModel):
    data: str


router = APIRouter()


@router.post("/echo")
async def echo(request: Request) -> dict[str, int]:
    return {"bytes": len(await request.body())}


@router.post("/json")
async def parsed(body: Blob) -> dict[str, int]:
    return {"chars": len(body.data)}


def _client() -> httpx.AsyncClient:
    settings = ServiceSettings(service_name="capped", environment="test", max_body_bytes=1000)
    app = create_app(settings, [router])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t/api/v1/capped")


async def _chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 100):
        yield b"x" * 100


async def test_bodies_within_the_cap_pass() -> None:
    async with _client() as client:
        response = await client.post("/echo", content=b"x" * 1000)
    assert response.json() == {"bytes": 1000}


async def test_declared_oversized_body_is_413_problem_with_the_request_id() -> None:
    async with _client() as client:
        for path, body in (("/echo", b"x" * 1001), ("/json", b'{"data": "' + b"x" * 1000 + b'"}')):
            response = await client.post(
                path, content=body, headers={"Content-Type": "application/json", "X-Request-Id": "big"}
            )
            assert response.status_code == 413, path
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["x-request-id"] == "big"


async def test_streamed_oversized_body_without_length_is_413() -> None:
    async with _client() as client:
        raw = await client.post("/echo", content=_chunks(5000))
        parsed_json = await client.post("/json", content=_chunks(5000), headers={"Content-Type": "application/json"})
    assert raw.status_code == parsed_json.status_code == 413
    assert raw.headers["content-type"] == parsed_json.headers["content-type"] == "application/problem+json"
    assert parsed_json.json()["detail"] == "request body exceeds 1000 bytes"


async def test_request_id_is_taken_or_made() -> None:
    async with _client() as client:
        given = await client.post("/echo", content=b"", headers={"X-Request-Id": "abc"})
        made = await client.post("/echo", content=b"")
    assert given.headers["x-request-id"] == "abc"
    assert len(made.headers["x-request-id"]) == 32


async def test_a_request_id_that_would_not_echo_byte_for_byte_is_replaced() -> None:
    """Header bytes are latin-1 and the echo is UTF-8: a non-ASCII id came back as different
    bytes (mojibake), so the caller's id and the logged one no longer matched."""
    async with _client() as client:
        response = await client.post("/echo", content=b"", headers=[(b"x-request-id", b"\xc3\xa9t\xc3\xa9")])
    echoed = response.headers.raw[[k.lower() for k, _ in response.headers.raw].index(b"x-request-id")][1]
    assert echoed != b"\xc3\x83\xc2\xa9t\xc3\x83\xc2\xa9"
    assert len(echoed) == 32
    assert echoed.isascii()


async def test_a_valid_traceparent_is_bound_for_the_request_and_a_bad_one_ignored() -> None:
    import structlog
    from starlette.types import Receive, Scope, Send

    seen: list[object] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(structlog.contextvars.get_contextvars().get("traceparent"))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    transport = httpx.ASGITransport(app=ServiceMiddleware(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/", headers={"traceparent": good})
        await client.get("/", headers={"traceparent": "00-garbage"})
    assert seen == [good, None]
