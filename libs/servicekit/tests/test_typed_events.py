"""Typed events: the payload class decides subject, version, stream and outbox schema."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.payload import EventPayload, all_payloads
from contracts.profiler import PersonaRequested
from servicekit.db import create_engine, user_transaction
from servicekit.events import Event, emit, new_event, on


def test_every_payload_names_a_well_formed_subject_once() -> None:
    payloads = all_payloads()
    subjects = [p.SUBJECT for p in payloads]
    assert len(subjects) == len(set(subjects))
    assert {"journey.profiler.persona.requested", "journey.billing.tier.changed"} <= set(subjects)
    for payload in payloads:
        assert payload.SUBJECT.startswith(f"journey.{payload.service()}.")


def test_a_malformed_subject_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(ValueError, match=r"journey\.<service>\.<entity>\.<verb>"):

        class Broken(EventPayload):
            SUBJECT = "persona.made"


async def test_emit_queues_the_payload_in_its_services_outbox(infra: Any) -> None:
    user = uuid.uuid4()
    payload = PersonaRequested(persona_id=uuid.uuid4(), session_id=uuid.uuid4())
    engine = create_engine(infra.dsn("profiler_app"))
    try:
        async with user_transaction(engine, user) as db:
            event = await emit(db, payload, user_id=user)
    finally:
        await engine.dispose()
    with psycopg.connect(infra.admin_dsn) as conn:
        row = conn.execute("SELECT subject, payload::text FROM profiler.outbox WHERE id = %s", (event.id,)).fetchone()
    assert row is not None
    subject, stored = row
    assert subject == "journey.profiler.persona.requested"
    envelope = json.loads(stored)
    assert envelope["subject"] == str(user)
    assert envelope["version"] == PersonaRequested.VERSION
    assert PersonaRequested.model_validate(envelope["data"]) == payload


async def test_on_binds_the_stream_and_hands_the_parsed_payload() -> None:
    received: list[tuple[PersonaRequested, Event]] = []

    async def handler(db: AsyncSession, payload: PersonaRequested, event: Event) -> None:
        received.append((payload, event))

    subscription = on(PersonaRequested, handler, durable="test-typed", max_deliver=3)
    assert (subscription.stream, subscription.filter_subject) == ("PROFILER", PersonaRequested.SUBJECT)
    assert subscription.max_deliver == 3
    payload = PersonaRequested(persona_id=uuid.uuid4(), session_id=uuid.uuid4())
    event = new_event(PersonaRequested.SUBJECT, user_id=uuid.uuid4(), data=payload.model_dump(mode="json"))
    assert subscription.handler is not None
    await subscription.handler(None, event)  # type: ignore[arg-type]  # the handler never touches db
    assert received == [(payload, event)]
