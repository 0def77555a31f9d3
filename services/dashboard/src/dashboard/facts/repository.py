"""SQL for the per-user facts (one JSONB row per user and projection generation)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.direct import Statement

_GENERATIONS = text("SELECT live_generation, building_generation FROM projection WHERE id = 1")
_LOAD_MANY = text("SELECT user_id, state FROM facts WHERE generation = :g AND user_id = ANY(:users)")


async def generations(db: AsyncSession) -> tuple[int, int | None]:
    """The live generation, and the one a rebuild is building (None when none is)."""
    row = (await db.exec(_GENERATIONS)).one()  # type: ignore[call-overload]
    return int(row[0]), (int(row[1]) if row[1] is not None else None)


async def load_many(db: AsyncSession, generation: int, users: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    rows = (await db.exec(_LOAD_MANY, params={"g": generation, "users": list(users)})).all()  # type: ignore[call-overload]
    return {row[0]: row[1] for row in rows}


# The consumers' path (servicekit.direct): queued after the user's lock, read in one round trip.
GENERATIONS = Statement(_GENERATIONS)
# Both generations' rows at once (the live one and, during a rebuild, the one being built).
FACTS_FOR_UPDATE = Statement(
    text(
        "SELECT generation, state::text AS state FROM facts WHERE user_id = :u AND generation IN "
        "(SELECT live_generation FROM projection WHERE id = 1 "
        "UNION ALL SELECT building_generation FROM projection WHERE id = 1) FOR UPDATE"
    )
)
STORE = Statement(
    text(
        "INSERT INTO facts (generation, user_id, state, updated_at) VALUES (:g, :u, CAST(:s AS jsonb), now()) "
        "ON CONFLICT (generation, user_id) DO UPDATE SET state = excluded.state, updated_at = now()"
    )
)
