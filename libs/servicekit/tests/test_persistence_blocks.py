"""The kit's persistence blocks on a scratch schema of their own, under real RLS: owned rows
(get-or-404, keyset pages, update, delete), the `owned` route dependency, Idempotency-Key."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from servicekit.app import create_app
from servicekit.db import timestamp_field
from servicekit.deps import DbSession
from servicekit.idempotency import IdempotencyKey, idempotent
from servicekit.migrations import user_table_ddl
from servicekit.pagination import Page, PageParams, page_params
from servicekit.repository import OwnedRepository, owned
from servicekit.settings import ServiceSettings
from servicekit.testing import Users, app_client

SCHEMA = "kitblocks"


class Note(SQLModel, table=True):
    __tablename__ = "notes"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    body: str
    created_at: datetime = timestamp_field(nullable=False, defaults_to_now=True)


class NoteIn(BaseModel):
    body: str


notes = OwnedRepository(Note, label="note")
OwnedNote = Annotated[Note, Depends(owned(notes))]
router = APIRouter()
gate = asyncio.Event()  # cleared: writes wait in the middle of their transaction
gate.set()
entered = asyncio.Event()  # set when a write is in the middle of its transaction
calls: list[str] = []


@router.post("/notes", status_code=201)
async def create_note(body: NoteIn, db: DbSession, request: Request, key: IdempotencyKey = None) -> Any:
    async def produce() -> Note:
        calls.append(body.body)
        entered.set()
        await gate.wait()
        return await notes.add(db, Note(user_id=request.state.user_id, body=body.body))

    return await idempotent(db, request, key, produce, status_code=201)


@router.get("/notes")
async def list_notes(db: DbSession, params: Annotated[PageParams, Depends(page_params)]) -> Page[Note]:
    return await notes.page(db, params)


@router.get("/notes/{id}")
async def get_note(note: OwnedNote) -> Note:
    return note


@router.patch("/notes/{id}")
async def edit_note(note: OwnedNote, body: NoteIn, db: DbSession) -> Note:
    return await notes.update(db, note, {"body": body.body})


@router.delete("/notes/{id}", status_code=204)
async def delete_note(note: OwnedNote, db: DbSession) -> None:
    await notes.delete(db, note)


# A named path parameter, as a service with several kinds of rows uses (`/habits/{habit_id}`).
@router.get("/named/{note_id}")
async def get_named_note(note: Annotated[Note, Depends(owned(notes, param="note_id"))]) -> Note:
    return note


@pytest.fixture(scope="module")
def settings(scratch_settings: Callable[[str, list[str]], ServiceSettings]) -> ServiceSettings:
    notes_table = (
        f'CREATE TABLE "{SCHEMA}".notes (id uuid PRIMARY KEY, user_id uuid NOT NULL, body text NOT NULL, '
        "created_at timestamptz NOT NULL DEFAULT clock_timestamp())"
    )
    return scratch_settings(SCHEMA, [notes_table, *user_table_ddl(SCHEMA, "notes")])


@pytest.fixture(scope="module")
async def client(settings: ServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(settings, [router])) as c:
        yield c


P = f"/api/v1/{SCHEMA}/notes"


async def test_another_users_row_is_404_for_every_method(client: httpx.AsyncClient, settings: ServiceSettings) -> None:
    users = Users(settings)
    ada, bob = users.headers(users.new("ada")), users.headers(users.new("bob"))
    note = (await client.post(P, json={"body": "mine"}, headers=ada)).json()
    assert (await client.get(f"{P}/{note['id']}", headers=ada)).json()["body"] == "mine"
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(method, f"{P}/{note['id']}", json={"body": "theirs"}, headers=bob)
        assert response.status_code == 404, method
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.patch(f"{P}/{note['id']}", json={"body": "edited"}, headers=ada)).json()["body"] == "edited"
    assert (await client.delete(f"{P}/{note['id']}", headers=ada)).status_code == 204
    assert (await client.get(f"{P}/{note['id']}", headers=ada)).status_code == 404


async def test_owned_reads_a_named_path_parameter(client: httpx.AsyncClient, settings: ServiceSettings) -> None:
    users = Users(settings)
    ada, bob = users.headers(users.new("ada")), users.headers(users.new("bob"))
    note = (await client.post(P, json={"body": "named"}, headers=ada)).json()
    named = f"/api/v1/{SCHEMA}/named/{note['id']}"
    assert (await client.get(named, headers=ada)).json()["body"] == "named"
    assert (await client.get(named, headers=bob)).status_code == 404
    bad = await client.get(f"/api/v1/{SCHEMA}/named/not-a-uuid", headers=ada)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "path.note_id"
    document = (await client.get(f"/api/v1/{SCHEMA}/openapi.json")).json()
    parameters = document["paths"][f"/api/v1/{SCHEMA}/named/{{note_id}}"]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in parameters] == [("note_id", "path")]


async def test_keyset_pages_walk_every_row_once_newest_first(
    client: httpx.AsyncClient, settings: ServiceSettings
) -> None:
    users = Users(settings)
    ada = users.headers(users.new("pager"))
    for i in range(7):
        assert (await client.post(P, json={"body": f"n{i}"}, headers=ada)).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(P, params=params, headers=ada)).json()
        seen += [item["body"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"n{i}" for i in reversed(range(7))]
    bad = await client.get(P, params={"cursor": "not-a-cursor"}, headers=ada)
    assert bad.status_code == 400


async def test_idempotency_key_replays_refuses_a_different_body_and_scopes_per_user(
    client: httpx.AsyncClient, settings: ServiceSettings
) -> None:
    users = Users(settings)
    ada, bob = users.headers(users.new("idem")), users.headers(users.new("idem"))
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    first = await client.post(P, json={"body": "once"}, headers={**ada, **key})
    again = await client.post(P, json={"body": "once"}, headers={**ada, **key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    different = await client.post(P, json={"body": "twice"}, headers={**ada, **key})
    assert different.status_code == 422
    other_user = await client.post(P, json={"body": "once"}, headers={**bob, **key})
    assert other_user.status_code == 201
    assert other_user.json()["id"] != first.json()["id"]
    listed = (await client.get(P, headers=ada)).json()["items"]
    assert [n["body"] for n in listed] == ["once"]


async def test_the_same_key_in_flight_is_409(client: httpx.AsyncClient, settings: ServiceSettings) -> None:
    users = Users(settings)
    ada = users.headers(users.new("inflight"))
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    gate.clear()
    entered.clear()
    try:
        first = asyncio.create_task(client.post(P, json={"body": "slow"}, headers={**ada, **key}))
        await asyncio.wait_for(entered.wait(), 10)
        second = await client.post(P, json={"body": "slow"}, headers={**ada, **key})
        assert second.status_code == 409
    finally:
        gate.set()
    assert (await first).status_code == 201
    assert (await client.post(P, json={"body": "slow"}, headers={**ada, **key})).status_code == 201
