"""The leading edge of a burst is written by the consumer itself, in the transaction that folds
the event (no scheduler hop); the rest of the burst waits in the queue for the window's end."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from dashboard.facts.service import apply_event
from dashboard.testing import T0, envelope, habit_created, habit_logged
from servicekit.direct import DirectPool, Statement, direct_transaction

_SNAPSHOT = Statement(text("SELECT version FROM snapshots"))
_QUEUE = Statement(text("SELECT pending FROM refresh_queue"))


async def test_the_first_event_of_a_burst_is_written_in_its_own_transaction(settings: Any) -> None:
    settings = settings.model_copy(update={"coalesce_activity_seconds": 600.0})  # the window never ends here
    pool = DirectPool(settings.worker_dsn, size=1)
    await pool.open()
    user_id, habit = uuid.uuid4(), uuid.uuid4()
    committed: list[str] = []
    try:
        created = envelope(habit_created(habit), user_id)
        async with direct_transaction(pool, user_id) as tx:
            assert await apply_event(tx, habit_created(habit), created, settings)
            # Still in the consumer's transaction: the snapshot is there, nothing left pending.
            assert await tx.one(_SNAPSHOT) == {"version": 1}
            assert await tx.one(_QUEUE) == {"pending": False}
            tx.after_commit(lambda: committed.append("first"))
            assert committed == []  # the announcement waits for the commit

        logged = habit_logged(habit, T0.date())
        async with direct_transaction(pool, user_id) as tx:
            assert await apply_event(tx, logged, envelope(logged, user_id), settings)
            # Within the coalescing window of that write: queued for the scheduler, not written.
            assert await tx.one(_SNAPSHOT) == {"version": 1}
            assert await tx.one(_QUEUE) == {"pending": True}
        assert committed == ["first"]
    finally:
        await pool.close()
