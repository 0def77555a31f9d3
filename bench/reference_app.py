"""Reference for `GET /personas/current`: the least work that endpoint has to do.

The same bearer JWT check (servicekit's TokenVerifier with ServiceSettings defaults), then one
RLS-scoped transaction as the `profiler_app` role on a psycopg 3 pool:
`set_config('app.user_id', ..., true)` and one indexed SELECT. No ORM, no response model.

And for `PUT /sessions/{id}/answers/{question_id}`: the same check, then one RLS-scoped transaction
that locks the open session (bumping its `updated_at`), checks the question exists in its bank and
upserts the answer (a repeat of the same value keeps its time), returning it. The profiler's
endpoint also validates the value against the question, which this one does not.

Served by bench/personas_current.py:
    python -m uvicorn --app-dir bench --factory reference_app:create_app --port PORT
with REFERENCE_DATABASE_URL (a libpq URL for the profiler_app role) and optionally
REFERENCE_POOL_MIN / REFERENCE_POOL_MAX in the environment.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool

from servicekit.auth import Principal, TokenVerifier
from servicekit.errors import Unauthorized
from servicekit.settings import ServiceSettings

SET_USER = "SELECT set_config('app.user_id', %s, true)"
CURRENT_PERSONA = (
    "SELECT id, content FROM profiler.personas "
    "WHERE user_id = %s AND status = 'ready' ORDER BY generated_at DESC LIMIT 1"
)

TOUCH_OPEN_SESSION = (
    "UPDATE profiler.sessions SET updated_at = now() WHERE id = %s AND status <> 'completed' RETURNING bank_version"
)
QUESTION_EXISTS = "SELECT 1 FROM profiler.questions WHERE bank_version = %s AND id = %s"
UPSERT_ANSWER = (
    "INSERT INTO profiler.answers (session_id, question_id, user_id, value, answered_at) "
    "VALUES (%s, %s, %s, %s, now()) ON CONFLICT (session_id, question_id) DO UPDATE "
    "SET value = excluded.value, answered_at = now() WHERE answers.value IS DISTINCT FROM excluded.value"
)
ANSWER = "SELECT value, answered_at FROM profiler.answers WHERE session_id = %s AND question_id = %s"


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

    def _principal(request: Request) -> Principal | JSONResponse:
        """The same bearer check as the kit's, answered as its 401 problem when it fails."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _problem(401, "missing bearer token")
        try:
            return verifier.verify(token.strip())
        except Unauthorized as exc:
            return _problem(401, exc.detail)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ref/personas/current")
    async def current_persona(request: Request) -> JSONResponse:
        principal = _principal(request)
        if isinstance(principal, JSONResponse):
            return principal
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(SET_USER, (str(principal.user_id),))
            cursor = await conn.execute(CURRENT_PERSONA, (principal.user_id,))
            row = await cursor.fetchone()
        if row is None:
            return _problem(404, "no persona yet")
        return JSONResponse({"id": str(row[0]), "content": row[1]})

    @app.put("/ref/sessions/{session_id}/answers/{question_id}")
    async def put_answer(session_id: uuid.UUID, question_id: str, request: Request) -> JSONResponse:
        principal = _principal(request)
        if isinstance(principal, JSONResponse):
            return principal
        try:
            value = (await request.json())["value"]
        except (ValueError, KeyError, TypeError):
            return _problem(422, "body.value is required")
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(SET_USER, (str(principal.user_id),))
            session = await (await conn.execute(TOUCH_OPEN_SESSION, (session_id,))).fetchone()
            if session is None:
                return _problem(404, "no open session")
            if await (await conn.execute(QUESTION_EXISTS, (session[0], question_id))).fetchone() is None:
                return _problem(404, "no such question")
            stored = json.dumps(value)
            await conn.execute(UPSERT_ANSWER, (session_id, question_id, principal.user_id, stored))
            answer = await (await conn.execute(ANSWER, (session_id, question_id))).fetchone()
        assert answer is not None
        return JSONResponse({"question_id": question_id, "value": answer[0], "answered_at": answer[1].isoformat()})

    return app
