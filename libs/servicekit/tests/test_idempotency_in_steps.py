"""`idempotent_in_steps`: Idempotency-Key for a handler that calls something slow between two
short transactions of its own. The key is reserved (committed) before the call, no transaction
is open during it, the answer commits with the write it answers, a failure releases the key,
and a reservation left by a dead request is taken over after the lease. On a scratch schema."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from servicekit.app import create_app
from servicekit.auth import CurrentPrincipal
from servicekit.db import timestamp_field, user_transaction
from servicekit.deps import Engine
from servicekit.errors import Conflict
from servicekit.idempotency import IdempotencyKey, Reservation, idempotent_in_steps
from servicekit.migrations import user_table_ddl
from servicekit.settings import ServiceSettings
from servicekit.testing import Users, app_client

SCHEMA = "kitsteps"
P = f"/api/v1/{SCHEMA}/orders"


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    item: str
    created_at: datetime = timestamp_field(nullable=False, defaults_to_now=True)


class OrderIn(BaseModel):
    item: str


router = APIRouter()
gate = asyncio.Event()  # cleared: the slow call waits
gate.set()
entered = asyncio.Event()  # set when a request is in its slow call
calls: list[str] = []


@router.post("/orders", status_code=201)
async def place_order(
    body: OrderIn, engine: Engine, request: Request, _: CurrentPrincipal, key: IdempotencyKey = None
) -> Any:
    async def produce(reservation: Reservation) -> Order:
        calls.append(body.item)
        entered.set()
        await gate.wait()  # the slow call: no transaction is open here
        async with user_transaction(engine, request.state.user_id) as db:
            order = Order(user_id=request.state.user_id, item=body.item)
            db.add(order)
            await db.flush()
            if body.item == "refused":
                raise Conflict("refused after writing: the write and the key roll back")
            await reservation.store(db, order)
        return order

    return await idempotent_in_steps(engine, request, key, produce, status_code=201)


@pytest.fixture(scope="module")
def settings(scratch_settings: Callable[[str, list[str]], ServiceSettings]) -> ServiceSettings:
    orders = (
        f'CREATE TABLE "{SCHEMA}".orders (id uuid PRIMARY KEY, user_id uuid NOT NULL, item text NOT NULL, '
        "created_at timestamptz NOT NULL DEFAULT clock_timestamp())"
    )
    return scratch_settings(SCHEMA, [orders, *user_table_ddl(SCHEMA, "orders")])


@pytest.fixture(scope="module")
async def client(settings: ServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(settings, [router])) as c:
        yield c


def _rows(admin_dsn: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(admin_dsn) as conn:
        return conn.execute(query, params).fetchall()


async def test_replays_refuses_a_different_body_and_commits_the_answer_with_the_write(
    client: httpx.AsyncClient, settings: ServiceSettings, infra: Any
) -> None:
    users = Users(settings)
    ada, bob = users.new("steps"), users.new("steps")
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    first = await client.post(P, json={"item": "book"}, headers={**users.headers(ada), **key})
    again = await client.post(P, json={"item": "book"}, headers={**users.headers(ada), **key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    different = await client.post(P, json={"item": "pen"}, headers={**users.headers(ada), **key})
    assert different.status_code == 422
    other_user = await client.post(P, json={"item": "book"}, headers={**users.headers(bob), **key})
    assert other_user.status_code == 201
    assert other_user.json()["id"] != first.json()["id"]
    stored = _rows(
        infra.admin_dsn, f"SELECT status, body->>'id' FROM {SCHEMA}.idempotency_keys WHERE user_id = %s", users.id(ada)
    )
    assert stored == [(201, first.json()["id"])]
    assert _rows(infra.admin_dsn, f"SELECT count(*) FROM {SCHEMA}.orders WHERE user_id = %s", users.id(ada)) == [(1,)]


async def test_in_flight_is_409_with_the_key_reserved_and_no_transaction_open(
    client: httpx.AsyncClient, settings: ServiceSettings, infra: Any
) -> None:
    users = Users(settings)
    ada = users.new("steps-in-flight")
    headers = {**users.headers(ada), "Idempotency-Key": f"k-{uuid.uuid4()}"}
    gate.clear()
    entered.clear()
    try:
        first = asyncio.create_task(client.post(P, json={"item": "slow"}, headers=headers))
        await asyncio.wait_for(entered.wait(), 10)
        # The reservation is committed: another connection sees it, in flight (status 0).
        reserved = _rows(
            infra.admin_dsn, f"SELECT status FROM {SCHEMA}.idempotency_keys WHERE user_id = %s", users.id(ada)
        )
        assert reserved == [(0,)]
        idle = _rows(
            infra.admin_dsn,
            "SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND state LIKE 'idle in transaction%%'",
            f"{SCHEMA}_app",
        )
        assert idle == [(0,)]
        second = await client.post(P, json={"item": "slow"}, headers=headers)
        assert second.status_code == 409
        assert second.headers["content-type"] == "application/problem+json"
    finally:
        gate.set()
    assert (await first).status_code == 201
    replay = await client.post(P, json={"item": "slow"}, headers=headers)
    assert replay.status_code == 201
    assert replay.json() == (await first).json()


async def test_a_failure_releases_the_key_and_rolls_back_its_write(
    client: httpx.AsyncClient, settings: ServiceSettings, infra: Any
) -> None:
    users = Users(settings)
    ada = users.new("steps-refused")
    headers = {**users.headers(ada), "Idempotency-Key": f"k-{uuid.uuid4()}"}
    before = len(calls)
    for _ in range(2):
        refused = await client.post(P, json={"item": "refused"}, headers=headers)
        assert refused.status_code == 409
    assert len(calls) == before + 2  # the retry ran again: the failure kept nothing
    assert _rows(
        infra.admin_dsn, f"SELECT count(*) FROM {SCHEMA}.idempotency_keys WHERE user_id = %s", users.id(ada)
    ) == [(0,)]
    assert _rows(infra.admin_dsn, f"SELECT count(*) FROM {SCHEMA}.orders WHERE user_id = %s", users.id(ada)) == [(0,)]


async def test_a_reservation_left_by_a_dead_request_is_taken_over_after_the_lease(
    client: httpx.AsyncClient, settings: ServiceSettings, infra: Any
) -> None:
    users = Users(settings)
    ada = users.new("steps-abandoned")
    headers = {**users.headers(ada), "Idempotency-Key": f"k-{uuid.uuid4()}"}

    def reserved_ago(age: str) -> None:
        with psycopg.connect(infra.admin_dsn) as conn:
            conn.execute(
                f"UPDATE {SCHEMA}.idempotency_keys SET created_at = now() - %s::interval WHERE user_id = %s",
                (age, users.id(ada)),
            )

    gate.clear()
    entered.clear()
    try:
        stuck = asyncio.create_task(client.post(P, json={"item": "stuck"}, headers=headers))
        await asyncio.wait_for(entered.wait(), 10)
        reserved_ago("1 minute")
        assert (await client.post(P, json={"item": "stuck"}, headers=headers)).status_code == 409  # within the lease
        reserved_ago("10 minutes")  # as if its request had died in the slow call
        entered.clear()
        retry = asyncio.create_task(client.post(P, json={"item": "stuck"}, headers=headers))
        await asyncio.wait_for(entered.wait(), 10)  # past the lease, the retry took the key over
    finally:
        gate.set()
    assert [(await stuck).status_code, (await retry).status_code] == [201, 201]
