"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from servicekit.errors import problem_response

router = APIRouter(tags=["health"])


async def nats_reachable(url: str, wait: float = 1.0) -> bool:
    """A NATS server greets every TCP client with INFO; that is enough for readiness."""
    parts = urlsplit(url.split(",")[0])
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname or "127.0.0.1", parts.port or 4222), wait
        )
    except (OSError, TimeoutError):
        return False
    try:
        line = await asyncio.wait_for(reader.readline(), wait)
        return line.startswith(b"INFO")
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()


async def database_reachable(request: Request) -> bool:
    try:
        async with request.app.state.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), 2)
        return True
    except Exception:
        return False


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    checks = {
        "database": await database_reachable(request),
        "nats": await nats_reachable(request.app.state.settings.nats_url),
    }
    if all(checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return problem_response(503, "a dependency is unreachable", instance=request.url.path, checks=checks)
