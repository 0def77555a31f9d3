"""SQL for the refresh queue: one row per user, `pending` with the most urgent priority asked for.

Coalescing: a request is due at once unless the user's snapshot was written less than the
class's coalescing window ago; then it is due at the end of that window. A burst of check-ins
for one user is therefore one write now (by the consumer itself, in its transaction: the leading
edge) and one per window after (by the scheduler: the trailing edge), however many arrive."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.direct import Statement

CHANNEL = "dashboard_refresh"

# The request merges into a pending row (most urgent priority, earliest due time) or re-arms a
# rendered one. `window` is the coalescing window of the request's class, in seconds.
_REQUEST = text(
    """
    INSERT INTO refresh_queue AS q (user_id, pending, priority, due_at, requested_at)
    VALUES (:u, true, :p, now(), now())
    ON CONFLICT (user_id) DO UPDATE SET
        priority = CASE WHEN q.pending THEN least(q.priority, excluded.priority) ELSE excluded.priority END,
        due_at = CASE
            WHEN q.pending THEN least(q.due_at, greatest(now(), q.rendered_at + make_interval(secs => :window)))
            ELSE greatest(now(), coalesce(q.rendered_at, now()) + make_interval(secs => :window))
        END,
        requested_at = CASE WHEN q.pending THEN q.requested_at ELSE now() END,
        pending = true
    RETURNING q.due_at <= now() AS due
    """
)
# The caller writes the snapshot itself, in this transaction (the row stays locked until commit,
# so the scheduler's claim skips it meanwhile).
_CLAIM_ONE = text("UPDATE refresh_queue SET pending = false, rendered_at = now() WHERE user_id = :u")
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', '')")

# The same three on the consumers' path (servicekit.direct).
REQUEST = Statement(_REQUEST)
CLAIM_ONE = Statement(_CLAIM_ONE)
NOTIFY = Statement(_NOTIFY)

# A manual refresh: allowed once per `interval` seconds; returns nothing when too soon.
_MANUAL = text(
    """
    INSERT INTO refresh_queue AS q (user_id, pending, priority, due_at, requested_at, manual_at)
    VALUES (:u, true, :p, now(), now(), now())
    ON CONFLICT (user_id) DO UPDATE SET
        pending = true, priority = excluded.priority, due_at = now(),
        requested_at = CASE WHEN q.pending THEN q.requested_at ELSE now() END, manual_at = now()
    WHERE q.manual_at IS NULL OR q.manual_at <= now() - make_interval(secs => :interval)
    RETURNING true
    """
)
_MANUAL_AT = text("SELECT manual_at, now() FROM refresh_queue WHERE user_id = :u")

# The scheduler (system role) takes the most urgent due users; the row stays, not pending.
_CLAIM = text(
    """
    WITH due AS (
        SELECT user_id FROM refresh_queue
        WHERE pending AND due_at <= now()
        ORDER BY priority, due_at
        LIMIT :n
        FOR UPDATE SKIP LOCKED
    )
    UPDATE refresh_queue q SET pending = false, rendered_at = now()
    FROM due WHERE q.user_id = due.user_id
    RETURNING q.user_id, q.priority
    """
)
_PENDING_BY_PRIORITY = text("SELECT priority, count(*) FROM refresh_queue WHERE pending GROUP BY priority")
_NEXT_DUE = text("SELECT min(due_at) - now() FROM refresh_queue WHERE pending")
# Snapshots showing a day that is over in the student's time zone (one PostgreSQL does not know,
# or none, is read as UTC, as the renderer reads an unknown one).
_ROLLED_OVER = text(
    """
    SELECT s.user_id FROM snapshots s
    LEFT JOIN pg_timezone_names z ON z.name = s.document->>'time_zone'
    WHERE (s.document->>'today')::date < (now() AT TIME ZONE coalesce(z.name, 'UTC'))::date
    """
)
_ENQUEUE_ALL = text(
    """
    INSERT INTO refresh_queue AS q (user_id, pending, priority, due_at, requested_at)
    SELECT user_id, true, :p, now(), now() FROM unnest(CAST(:users AS uuid[])) AS u(user_id)
    ON CONFLICT (user_id) DO UPDATE SET pending = true, priority = least(q.priority, excluded.priority),
        due_at = least(q.due_at, excluded.due_at)
    """
)


async def request_manual(db: AsyncSession, user_id: uuid.UUID, priority: int, interval: float) -> float | None:
    """A manual refresh at `priority`; None when accepted, else the seconds until it would be."""
    accepted = (await db.exec(_MANUAL, params={"u": user_id, "p": priority, "interval": interval})).first()  # type: ignore[call-overload]
    if accepted:
        await db.exec(_NOTIFY)  # type: ignore[call-overload]
        return None
    manual_at, now = (await db.exec(_MANUAL_AT, params={"u": user_id})).one()  # type: ignore[call-overload]
    return max(0.0, interval - float((now - manual_at).total_seconds()))


async def claim_due(db: AsyncSession, limit: int) -> list[tuple[uuid.UUID, int]]:
    rows = (await db.exec(_CLAIM, params={"n": limit})).all()  # type: ignore[call-overload]
    return [(row[0], int(row[1])) for row in rows]


async def pending_by_priority(db: AsyncSession) -> list[tuple[int, int]]:
    rows = (await db.exec(_PENDING_BY_PRIORITY)).all()  # type: ignore[call-overload]
    return [(int(row[0]), int(row[1])) for row in rows]


async def seconds_to_next_due(db: AsyncSession) -> float | None:
    row = (await db.exec(_NEXT_DUE)).first()  # type: ignore[call-overload]
    return None if row is None or row[0] is None else max(0.0, row[0].total_seconds())


async def request_many(db: AsyncSession, users: Sequence[uuid.UUID], priority: int) -> None:
    await db.exec(_ENQUEUE_ALL, params={"users": list(users), "p": priority})  # type: ignore[call-overload]
    await db.exec(_NOTIFY)  # type: ignore[call-overload]


async def rolled_over(db: AsyncSession) -> list[uuid.UUID]:
    """Users whose snapshot's `today` is a day that is over where they are."""
    rows = (await db.exec(_ROLLED_OVER)).all()  # type: ignore[call-overload]
    return [row[0] for row in rows]
