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
