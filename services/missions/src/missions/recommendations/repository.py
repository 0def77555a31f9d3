"""The facts recommendations read, and the upserts their consumers write (under the event
user's RLS; a late, older event never overwrites a newer fact)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missions.models import CoachingFact, PersonaFacts

_UPSERT_PERSONA = text(
    "INSERT INTO persona_facts AS p (user_id, persona_id, name, mission_tags, suggested_goals, generated_at, event_id) "
    "VALUES (:user_id, :persona_id, :name, CAST(:tags AS jsonb), CAST(:goals AS jsonb), :at, :event_id) "
    "ON CONFLICT (user_id) DO UPDATE SET persona_id = excluded.persona_id, name = excluded.name, "
    "mission_tags = excluded.mission_tags, suggested_goals = excluded.suggested_goals, "
    "generated_at = excluded.generated_at, event_id = excluded.event_id WHERE p.generated_at <= excluded.generated_at"
)
_UPSERT_FACT = text(
    "INSERT INTO coaching_facts AS f (user_id, kind, ref_id, title, active, changed_at) "
    "VALUES (:user_id, :kind, :ref_id, :title, :active, :at) "
    "ON CONFLICT (user_id, kind, ref_id) DO UPDATE SET title = excluded.title, active = excluded.active, "
    "changed_at = excluded.changed_at WHERE f.changed_at <= excluded.changed_at"
)


async def upsert_persona(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    persona_id: uuid.UUID,
    name: str,
    tags: list[str],
    goals: list[str],
    at: datetime,
    event_id: uuid.UUID,
) -> None:
    params = {
        "user_id": user_id,
        "persona_id": persona_id,
        "name": name,
        "tags": json.dumps(tags),
        "goals": json.dumps(goals),
        "at": at,
        "event_id": event_id,
    }
    await db.exec(_UPSERT_PERSONA, params=params)  # type: ignore[call-overload]


async def upsert_fact(
    db: AsyncSession, *, user_id: uuid.UUID, kind: str, ref_id: uuid.UUID, title: str, active: bool, at: datetime
) -> None:
    params = {"user_id": user_id, "kind": kind, "ref_id": ref_id, "title": title, "active": active, "at": at}
    await db.exec(_UPSERT_FACT, params=params)  # type: ignore[call-overload]


async def persona(db: AsyncSession) -> PersonaFacts | None:
    return (await db.exec(select(PersonaFacts))).first()


async def active_facts(db: AsyncSession) -> Sequence[CoachingFact]:
    query = select(CoachingFact).where(CoachingFact.active == True).order_by(col(CoachingFact.changed_at))  # noqa: E712
    return (await db.exec(query)).all()
