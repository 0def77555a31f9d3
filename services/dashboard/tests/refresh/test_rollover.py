"""A day turns over without an event: the scheduler re-renders, at bulk priority, every snapshot
whose "today" is a day that is over in the student's time zone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg

from dashboard.refresh import repository
from dashboard.testing import habit_created, profile_updated
from servicekit.db import user_transaction
from servicekit.testing import eventually

ME = "/api/v1/dashboard/me"
ZONE = "Pacific/Kiritimati"  # UTC+14: its date is rarely the UTC one, so the zone is what counts


async def test_a_snapshot_showing_a_past_day_is_rendered_again_for_today(
    client: httpx.AsyncClient, users: Any, publish: Any, worker: Any, scheduler: Any, infra: Any
) -> None:
    name = users.new()
    user_id, headers = users.id(name), users.headers(name)
    await publish(profile_updated(ZONE), user_id)
    await publish(habit_created(uuid.uuid4()), user_id)

    async def folded() -> dict[str, Any] | None:
        body = (await client.get(ME, headers=headers)).json()
        return body if body["time_zone"] == ZONE and body["habits_today"] else None

    before = await eventually(folded, within=10)
    local_today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date().isoformat()
    assert before["today"] == local_today
    # As the snapshot would stand after a local midnight with no event since: rendered (its
    # content and the hash of that content) for a day that is over.
    with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE dashboard.snapshots SET document = jsonb_set(document, '{today}', '\"2020-01-01\"'), "
            "content_hash = 'rendered for 2020-01-01' WHERE user_id = %s",
            (user_id,),
        )
    assert await scheduler.queue_rolled_over() >= 1

    async def turned_over() -> dict[str, Any] | None:
        body = (await client.get(ME, headers=headers)).json()
        return body if body["version"] > before["version"] else None

    after = await eventually(turned_over, within=10)
    assert after["today"] == local_today
    async with user_transaction(scheduler.engine, None) as db:
        assert user_id not in await repository.rolled_over(db)  # queued once, not every minute
