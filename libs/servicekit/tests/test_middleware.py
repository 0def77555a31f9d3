"""The body cap and request id, on a bare app built by the app factory's pieces."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request

from servicekit.errors import install_error_handlers
from servicekit.middleware import BodyLimitMiddleware, RequestContextMiddleware


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.add_middleware(BodyLimitMiddleware, max_bytes=1000)
    app.add_middleware(RequestContextMiddleware)
    return app


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t")


async def _chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 100):
        yield b"x" * 100


async def test_bodies_within_the_cap_pass() -> None:
    async with _client() as client:
        response = await client.post("/echo", content=b"x" * 1000)
    assert response.json() == {"bytes": 1000}


async def test_declared_oversized_body_is_413_problem() -> None:
    async with _client() as client:
        response = await client.post("/echo", content=b"x" * 1001)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_streamed_oversized_body_without_length_is_413() -> None:
    async with _client() as client:
        response = await client.post("/echo", content=_chunks(5000))
    assert response.status_code == 413
    assert response.json()["detail"] == "request body exceeds 1000 bytes"


async def test_request_id_is_taken_or_made() -> None:
    async with _client() as client:
        given = await client.post("/echo", content=b"", headers={"X-Request-Id": "abc"})
        made = await client.post("/echo", content=b"")
    assert given.headers["x-request-id"] == "abc"
    assert len(made.headers["x-request-id"]) == 32


async def test_a_valid_traceparent_is_bound_for_the_request_and_a_bad_one_ignored() -> None:
    import structlog
    from starlette.types import Receive, Scope, Send

    seen: list[object] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(structlog.contextvars.get_contextvars().get("traceparent"))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    transport = httpx.ASGITransport(app=RequestContextMiddleware(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/", headers={"traceparent": good})
        await client.get("/", headers={"traceparent": "00-garbage"})
    assert seen == [good, None]
