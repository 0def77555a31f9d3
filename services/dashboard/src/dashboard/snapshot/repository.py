"""SQL for snapshots: the API's one indexed read, and the scheduler's writes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.direct import DirectQueries, Statement

# The caller's row under RLS (primary key): the document as text, ready to send.
_CURRENT = text("SELECT version, document::text FROM snapshots")
_VERSIONS = text("SELECT user_id, version, content_hash FROM snapshots WHERE user_id = ANY(:users) FOR UPDATE")
_WRITE = text(
    """
    INSERT INTO snapshots AS s (user_id, version, as_of, content_hash, document)
    VALUES (:u, :v, :as_of, :h, :d)
    ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, as_of = excluded.as_of,
        content_hash = excluded.content_hash, document = excluded.document
    """
).bindparams(bindparam("d", type_=JSONB))


async def current(db: AsyncSession) -> tuple[int, str] | None:
    """The RLS user's snapshot: (version, document JSON), one primary-key read."""
    row = (await db.exec(_CURRENT)).first()  # type: ignore[call-overload]
    return (int(row[0]), str(row[1])) if row else None


# The same read on the kit's direct path (servicekit.direct).
_CURRENT_DIRECT = Statement(text("SELECT version, document::text AS document FROM snapshots"))


async def current_direct(queries: DirectQueries) -> tuple[int, str] | None:
    row = await queries.one(_CURRENT_DIRECT)
    return (int(row["version"]), str(row["document"])) if row else None


async def versions_for_update(db: AsyncSession, users: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, str]]:
    rows = (await db.exec(_VERSIONS, params={"users": users})).all()  # type: ignore[call-overload]
    return {row[0]: (int(row[1]), str(row[2])) for row in rows}


_WRITE_MANY = text(
    """
    INSERT INTO snapshots AS s (user_id, version, as_of, content_hash, document)
    SELECT (row->>'user_id')::uuid, (row->>'version')::bigint, :as_of, row->>'hash', row->'document'
    FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS row
    ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, as_of = excluded.as_of,
        content_hash = excluded.content_hash, document = excluded.document
    """
)


async def write_many(db: AsyncSession, as_of: datetime, rows: list[dict[str, Any]]) -> None:
    """`rows`: user_id, version, hash, document; one statement."""
    if rows:
        payload = to_json(rows).decode()
        await db.exec(_WRITE_MANY, params={"as_of": as_of, "rows": payload})  # type: ignore[call-overload]


async def write(
    db: AsyncSession, user_id: uuid.UUID, version: int, as_of: datetime, content_hash: str, document: dict[str, Any]
) -> None:
    await db.exec(  # type: ignore[call-overload]
        _WRITE, params={"u": user_id, "v": version, "as_of": as_of, "h": content_hash, "d": document}
    )
