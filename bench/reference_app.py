"""Reference for `GET /personas/current`: the least work that endpoint has to do.

The same bearer JWT check (servicekit's TokenVerifier with ServiceSettings defaults), then one
RLS-scoped transaction as the `profiler_app` role on a psycopg 3 pool:
`set_config('app.user_id', ..., true)` and one indexed SELECT. No ORM, no response model.

Served by bench/personas_current.py:
    python -m uvicorn --app-dir bench --factory reference_app:create_app --port PORT
with REFERENCE_DATABASE_URL (a libpq URL for the profiler_app role) and optionally
REFERENCE_POOL_MIN / REFERENCE_POOL_MAX in the environment.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool

from servicekit.auth import TokenVerifier
from servicekit.errors import Unauthorized
from servicekit.settings import ServiceSettings

SET_USER = "SELECT set_config('app.user_id', %s, true)"
CURRENT_PERSONA = (
    "SELECT id, content FROM profiler.personas "
    "WHERE user_id = %s AND status = 'ready' ORDER BY generated_at DESC LIMIT 1"
)


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def create_app() -> FastAPI:
    dsn = os.environ["REFERENCE_DATABASE_URL"]
    # The profiler's SQLAlchemy engine: pool_size=10, max_overflow=10 (ServiceSettings.db_pool_size).
    pool = AsyncConnectionPool(
        dsn,
        min_size=int(os.environ.get("REFERENCE_POOL_MIN", "10")),
        max_size=int(os.environ.get("REFERENCE_POOL_MAX", "20")),
        open=False,
    )
    verifier = TokenVerifier(ServiceSettings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await pool.open(wait=True)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="personas/current reference", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None
    )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ref/personas/current")
    async def current_persona(request: Request) -> JSONResponse:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _problem(401, "missing bearer token")
        try:
            principal = verifier.verify(token.strip())
        except Unauthorized as exc:
            return _problem(401, exc.detail)
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(SET_USER, (str(principal.user_id),))
            cursor = await conn.execute(CURRENT_PERSONA, (principal.user_id,))
            row = await cursor.fetchone()
        if row is None:
            return _problem(404, "no persona yet")
        return JSONResponse({"id": str(row[0]), "content": row[1]})

    return app
