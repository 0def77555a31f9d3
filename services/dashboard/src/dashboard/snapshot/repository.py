"""SQL for snapshots: the API's one indexed read, and the scheduler's writes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.direct import DirectQueries, DirectTransaction, Statement

# A snapshot to store: user id, version, content hash, document.
Row = tuple[uuid.UUID, int, str, dict[str, Any]]

# The caller's row under RLS (primary key): the document as text, ready to send.
_CURRENT = text("SELECT version, document::text FROM snapshots")
_VERSIONS = text("SELECT user_id, version, content_hash FROM snapshots WHERE user_id = ANY(:users) FOR UPDATE")


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


async def write_many(db: AsyncSession, as_of: datetime, rows: Sequence[Row]) -> None:
    """Every snapshot of `rows`, in one statement."""
    if rows:
        payload = [{"user_id": u, "version": v, "hash": h, "document": d} for u, v, h, d in rows]
        await db.exec(_WRITE_MANY, params={"as_of": as_of, "rows": to_json(payload).decode()})  # type: ignore[call-overload]


# The consumers' path (servicekit.direct): the snapshot's row, locked (after the refresh queue's
# row, in the order the scheduler takes them), then the new version written.
VERSION_FOR_UPDATE = Statement(text("SELECT version, content_hash FROM snapshots WHERE user_id = :u FOR UPDATE"))
WRITE_ONE = Statement(
    text(
        """
        INSERT INTO snapshots AS s (user_id, version, as_of, content_hash, document)
        VALUES (:u, :v, :as_of, :h, CAST(:d AS jsonb))
        ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, as_of = excluded.as_of,
            content_hash = excluded.content_hash, document = excluded.document
        """
    )
)


async def write_one(tx: DirectTransaction, as_of: datetime, row: Row) -> None:
    """Queued with the commit."""
    user_id, version, content_hash, document = row
    await tx.send(WRITE_ONE, u=user_id, v=version, as_of=as_of, h=content_hash, d=to_json(document).decode())
