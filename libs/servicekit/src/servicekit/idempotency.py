"""`Idempotency-Key` for every retry-safe write, as the IETF draft describes it: the key is
scoped to the user and the route; the same key with the same request gets the first answer
again; with a different request, 422; while the first is still running, 409. Keys expire.

The stored answer commits in the same transaction as the write it answers, so a crash between
the two cannot leave one without the other.

`idempotent` runs the handler inside the request's one transaction. `idempotent_in_steps` is
for a handler that calls something slow (a payment provider) and must not hold a transaction
meanwhile: the key is reserved in a short transaction of its own (a row "in flight"), the handler
runs with none open, and the answer is stored in the handler's last transaction, next to the
write it answers. A reservation whose request died is taken over after a lease."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.db import user_transaction
from servicekit.errors import Conflict, Unprocessable

_KEY_HEADER: dict[str, Any] = {
    "alias": "Idempotency-Key",
    "min_length": 1,
    "max_length": 255,
    "pattern": r"^[\x21-\x7e]+$",
    "description": "retry-safe: the same key and request within 24 h get the first answer again",
}
IdempotencyKey = Annotated[str | None, Header(**_KEY_HEADER)]
# For writes that must never run twice by accident (a purchase): 422 without a key.
RequiredIdempotencyKey = Annotated[str, Header(**_KEY_HEADER)]
DEFAULT_TTL = timedelta(hours=24)
# How long a reservation in flight keeps others out (409) before a retry may take it over.
DEFAULT_LEASE = timedelta(minutes=2)
IN_FLIGHT = 0  # the status of a reserved key whose answer is not stored yet

_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:scope, 7))")
_FIND = text(
    "SELECT request_hash, status, body, created_at > now() - make_interval(secs => :ttl) AS live "
    "FROM idempotency_keys WHERE route = :route AND key = :key"
)
_FORGET = text("DELETE FROM idempotency_keys WHERE route = :route AND key = :key")
_FIND_RESERVED = text(
    "SELECT request_hash, status, body, created_at > now() - make_interval(secs => :ttl) AS live, "
    "created_at > now() - make_interval(secs => :lease) AS fresh "
    "FROM idempotency_keys WHERE route = :route AND key = :key FOR UPDATE"
)
_RESERVE = text(
    "INSERT INTO idempotency_keys (user_id, route, key, request_hash, status, body) "
    "VALUES (nullif(current_setting('app.user_id', true), '')::uuid, :route, :key, :hash, 0, 'null'::jsonb) "
    "ON CONFLICT DO NOTHING"
)
_TAKE_OVER = text(
    "UPDATE idempotency_keys SET request_hash = :hash, status = 0, body = 'null'::jsonb, created_at = now() "
    "WHERE route = :route AND key = :key"
)
_STORE = text(
    "UPDATE idempotency_keys SET status = :status, body = CAST(:body AS jsonb) WHERE route = :route AND key = :key"
)
_RELEASE = text("DELETE FROM idempotency_keys WHERE route = :route AND key = :key AND status = 0")
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
    fingerprint: str | None = None,
) -> JSONResponse:
    """Run `produce` once per (user, route, key) and answer with what it returned; without a key
    it simply runs. `db` is the request's RLS transaction (the key table is user-owned).

    `fingerprint` stands for the request when the handler streamed its body itself (an upload
    it never held in memory): a digest of what it read, path and method included; by default
    the fingerprint is computed from the buffered body."""
    if key is None:
        return JSONResponse(jsonable_encoder(await produce()), status_code=status_code)
    route = _route(request)
    fingerprint = fingerprint or await request_fingerprint(request)
    scope = json.dumps([str(getattr(request.state, "user_id", "")), route, key])
    if not (await db.exec(_LOCK, params={"scope": scope})).scalar_one():  # type: ignore[call-overload]
        raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly")
    params = {"route": route, "key": key}
    found = (await db.exec(_FIND, params={**params, "ttl": ttl.total_seconds()})).first()  # type: ignore[call-overload]
    if found is not None and found.live:
        _refuse_another_request(found.request_hash, fingerprint)
        if found.status == IN_FLIGHT:  # reserved by `idempotent_in_steps` on this route
            raise _in_flight()
        return _replay(found.body, found.status)
    if found is not None:
        await db.exec(_FORGET, params=params)  # type: ignore[call-overload]
    body = jsonable_encoder(await produce())
    await db.exec(  # type: ignore[call-overload]
        _REMEMBER, params={**params, "hash": fingerprint, "status": status_code, "body": json.dumps(body)}
    )
    return JSONResponse(body, status_code=status_code)


def _refuse_another_request(held: str, fingerprint: str) -> None:
    if held != fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was used for a different request",
            errors=[{"field": "Idempotency-Key", "message": "reused with a different request"}],
        )


def _in_flight() -> Conflict:
    return Conflict("a request with this Idempotency-Key is still being processed; retry shortly")


def _replay(body: Any, status: int) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})


@dataclass
class Reservation:
    """A key held for one request by `idempotent_in_steps`. `store` writes the answer in the
    caller's transaction; without a key (`key` None) it does nothing."""

    route: str
    key: str | None
    status_code: int
    stored: bool = False

    async def store(self, db: AsyncSession, answer: Any) -> None:
        if self.key is None:
            return
        body = json.dumps(jsonable_encoder(answer))
        params = {"route": self.route, "key": self.key, "status": self.status_code, "body": body}
        await db.exec(_STORE, params=params)  # type: ignore[call-overload]
        self.stored = True


async def _reserve(
    engine: AsyncEngine,
    user_id: uuid.UUID | None,
    reservation: Reservation,
    fingerprint: str,
    ttl: timedelta,
    lease: timedelta,
) -> JSONResponse | None:
    """Hold the key in a short transaction of its own; the stored answer when there is one."""
    params = {"route": reservation.route, "key": reservation.key}
    async with user_transaction(engine, user_id) as db:
        found = (
            await db.exec(  # type: ignore[call-overload]
                _FIND_RESERVED, params={**params, "ttl": ttl.total_seconds(), "lease": lease.total_seconds()}
            )
        ).first()
        if found is not None and found.live:
            _refuse_another_request(found.request_hash, fingerprint)
            if found.status != IN_FLIGHT:
                return _replay(found.body, found.status)
            if found.fresh:
                raise _in_flight()
            # The request holding it died (or outlived the lease): this retry takes it over.
            await db.exec(_TAKE_OVER, params={**params, "hash": fingerprint})  # type: ignore[call-overload]
            return None
        if found is not None:
            await db.exec(_FORGET, params=params)  # type: ignore[call-overload]
        reserved = await db.exec(_RESERVE, params={**params, "hash": fingerprint})  # type: ignore[call-overload]
        if not reserved.rowcount:  # reserved by a concurrent request that committed first
            raise _in_flight()
    return None


async def idempotent_in_steps(
    engine: AsyncEngine,
    request: Request,
    key: str | None,
    produce: Callable[[Reservation], Awaitable[Any]],
    *,
    status_code: int = 200,
    ttl: timedelta = DEFAULT_TTL,
    lease: timedelta = DEFAULT_LEASE,
) -> JSONResponse:
    """Like `idempotent`, for a handler that opens its own short transactions around a slow call.

    `produce(reservation)` runs with no transaction open; it calls `reservation.store(db, answer)`
    in the transaction that records its result, so the answer commits with that write (if it does
    not, the answer is stored afterwards on its own). If it raises, the key is released: a retry
    runs again. Same key and request: the first answer; another request: 422; in flight: 409."""
    reservation = Reservation(route=_route(request), key=key, status_code=status_code)
    if key is None:
        return JSONResponse(jsonable_encoder(await produce(reservation)), status_code=status_code)
    user_id: uuid.UUID | None = getattr(request.state, "user_id", None)
    if user_id is None:  # keys are the caller's: the route must depend on CurrentPrincipal
        raise RuntimeError(f"{reservation.route}: an Idempotency-Key needs an authenticated caller")
    stored = await _reserve(engine, user_id, reservation, await request_fingerprint(request), ttl, lease)
    if stored is not None:
        return stored
    try:
        answer = await produce(reservation)
    except BaseException:
        # Only a reservation still in flight is dropped: an answer that committed stays.
        async with user_transaction(engine, user_id) as db:
            await db.exec(_RELEASE, params={"route": reservation.route, "key": key})  # type: ignore[call-overload]
        raise
    if not reservation.stored:
        async with user_transaction(engine, user_id) as db:
            await reservation.store(db, answer)
    return JSONResponse(jsonable_encoder(answer), status_code=status_code)
