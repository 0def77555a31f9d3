"""The leading edge of a burst is written by the consumer itself, in the transaction that folds
the event (no scheduler hop); the rest of the burst waits in the queue for the window's end."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from dashboard.facts.service import apply_event
from dashboard.testing import T0, envelope, habit_created, habit_logged
from servicekit.db import create_engine, user_transaction

_SNAPSHOT = text("SELECT version FROM snapshots")
_QUEUE = text("SELECT pending FROM refresh_queue")


async def test_the_first_event_of_a_burst_is_written_in_its_own_transaction(settings: Any) -> None:
    settings = settings.model_copy(update={"coalesce_activity_seconds": 600.0})  # the window never ends here
    engine = create_engine(settings.worker_dsn, pool_size=1)
    user_id, habit = uuid.uuid4(), uuid.uuid4()
    try:
        created = envelope(habit_created(habit), user_id)
        async with user_transaction(engine, user_id) as db:
            assert await apply_event(db, habit_created(habit), created, settings)
            # Still in the consumer's transaction: the snapshot is there, nothing left pending.
            assert (await db.exec(_SNAPSHOT)).one()[0] == 1  # type: ignore[call-overload]
            assert (await db.exec(_QUEUE)).one()[0] is False  # type: ignore[call-overload]

        logged = habit_logged(habit, T0.date())
        async with user_transaction(engine, user_id) as db:
            assert await apply_event(db, logged, envelope(logged, user_id), settings)
            # Within the coalescing window of that write: queued for the scheduler, not written.
            assert (await db.exec(_SNAPSHOT)).one()[0] == 1  # type: ignore[call-overload]
            assert (await db.exec(_QUEUE)).one()[0] is True  # type: ignore[call-overload]
    finally:
        await engine.dispose()
