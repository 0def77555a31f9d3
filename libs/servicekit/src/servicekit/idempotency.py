"""`Idempotency-Key` for every retry-safe write, as the IETF draft describes it: the key is
scoped to the user and the route; the same key with the same request gets the first answer
again; with a different request, 422; while the first is still running, 409. Keys expire.

The stored answer commits in the same transaction as the write it answers, so a crash between
the two cannot leave one without the other."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.errors import Conflict, Unprocessable

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="retry-safe: the same key and request within 24 h get the first answer again",
    ),
]
DEFAULT_TTL = timedelta(hours=24)

_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:scope, 7))")
_FIND = text(
    "SELECT request_hash, status, body, created_at > now() - make_interval(secs => :ttl) AS live "
    "FROM idempotency_keys WHERE route = :route AND key = :key"
)
_FORGET = text("DELETE FROM idempotency_keys WHERE route = :route AND key = :key")
_REMEMBER = text(
    "INSERT INTO idempotency_keys (user_id, route, key, request_hash, status, body) "
    "VALUES (nullif(current_setting('app.user_id', true), '')::uuid, :route, :key, :hash, :status, "
    "CAST(:body AS jsonb))"
)


async def request_fingerprint(request: Request) -> str:
    body = await request.body()
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.url.path.encode(), request.url.query.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


async def idempotent(
    db: AsyncSession,
    request: Request,
    key: str | None,
    produce: Callable[[], Awaitable[Any]],
    *,
    status_code: int = 200,
    ttl: timedelta = DEFAULT_TTL,
) -> JSONResponse:
    """Run `produce` once per (user, route, key) and answer with what it returned; without a key
    it simply runs. `db` is the request's RLS transaction (the key table is user-owned)."""
    if key is None:
        return JSONResponse(jsonable_encoder(await produce()), status_code=status_code)
    route = _route(request)
    fingerprint = await request_fingerprint(request)
    scope = json.dumps([str(getattr(request.state, "user_id", "")), route, key])
    if not (await db.exec(_LOCK, params={"scope": scope})).scalar_one():  # type: ignore[call-overload]
        raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly")
    params = {"route": route, "key": key}
    found = (await db.exec(_FIND, params={**params, "ttl": ttl.total_seconds()})).first()  # type: ignore[call-overload]
    if found is not None and found.live:
        if found.request_hash != fingerprint:
            raise Unprocessable(
                "this Idempotency-Key was used for a different request",
                errors=[{"field": "Idempotency-Key", "message": "reused with a different request"}],
            )
        return JSONResponse(found.body, status_code=found.status, headers={"Idempotent-Replayed": "true"})
    if found is not None:
        await db.exec(_FORGET, params=params)  # type: ignore[call-overload]
    body = jsonable_encoder(await produce())
    await db.exec(  # type: ignore[call-overload]
        _REMEMBER, params={**params, "hash": fingerprint, "status": status_code, "body": json.dumps(body)}
    )
    return JSONResponse(body, status_code=status_code)
