"""The consumers' one handler: fold the event into the user's facts (every generation being
kept: the live one and, during a rebuild, the one being built), then ask for a refresh at the
event's priority. Runs in the consumer's transaction, with the inbox claim.

A refresh due now (the first event of a burst, or any urgent one) is written right here from
the facts in hand and announced when the transaction commits: the event is on the stream one
commit after it is folded, with no scheduler hop. The rest of a burst coalesces in the queue and
the scheduler writes it at the end of the window."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.payload import EventPayload
from dashboard.facts import repository
from dashboard.facts.reducers import REDUCERS, EventMeta, Priority, reduce
from dashboard.facts.state import UserFacts
from dashboard.refresh import repository as refresh_repository
from dashboard.refresh.announcer import ANNOUNCER
from dashboard.settings import DashboardSettings
from dashboard.snapshot.service import write_snapshots
from servicekit.db import lock_user
from servicekit.events.envelope import Event
from servicekit.events.streams import stream_name


def coalesce_window(settings: DashboardSettings, priority: Priority) -> float:
    return {
        Priority.URGENT: 0.0,
        Priority.ACTIVITY: settings.coalesce_activity_seconds,
        Priority.BULK: settings.coalesce_bulk_seconds,
    }[priority]


def meta_of(event: Event) -> EventMeta:
    return EventMeta(event.id, event.time, stream_name(event.source))


async def apply_event(db: AsyncSession, payload: EventPayload, event: Event, settings: DashboardSettings) -> bool:
    """Fold `event` into its user's facts; False when it names no user (nothing to do)."""
    user_id = event.user_id()
    if user_id is None:
        return False
    # Serialise with every other handler (and the rebuild) for this user: a first row does not
    # exist to be locked, so two first events of one user would otherwise both start empty.
    await lock_user(db, user_id)
    live, building = await repository.generations(db)
    changed = False
    live_facts: UserFacts | None = None
    for generation in (live, building):
        if generation is None:
            continue
        stored = await repository.load_for_update(db, generation, user_id)
        facts = UserFacts.model_validate(stored) if stored else UserFacts.empty(user_id)
        reduced = reduce(facts, payload, meta_of(event))
        if generation == live:
            live_facts = reduced
        if reduced != facts or stored is None:
            await repository.store(db, generation, user_id, reduced.model_dump(mode="json"))
            changed = True
    if changed:
        priority = REDUCERS[type(payload)].priority
        window = coalesce_window(settings, priority)
        if await refresh_repository.request(db, user_id, priority, window, inline=settings.inline_refresh):
            known = {user_id: live_facts} if live_facts is not None else None
            written = await write_snapshots(db, live, [user_id], datetime.now(UTC), known=known)
            ANNOUNCER.after_commit(db, written)
    return True
