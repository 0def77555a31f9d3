"""The consumers' one handler: fold the event into the user's facts (every generation being
kept: the live one and, during a rebuild, the one being built), then ask for a refresh at the
event's priority. Runs in the consumer's transaction, with the inbox claim.

A refresh due now (the first event of a burst, or any urgent one) is written right here from
the facts in hand and announced when the transaction commits: the event is on the stream one
commit after it is folded, with no scheduler hop. The rest of a burst coalesces in the queue and
the scheduler writes it at the end of the window."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.payload import EventPayload
from dashboard.facts import repository
from dashboard.facts.reducers import REDUCERS, EventMeta, Priority, reduce
from dashboard.facts.state import UserFacts
from dashboard.refresh import repository as refresh_repository
from dashboard.refresh.announcer import ANNOUNCER
from dashboard.settings import DashboardSettings
from dashboard.snapshot import repository as snapshot_repository
from dashboard.snapshot.service import next_version
from servicekit.direct import USER_LOCK, DirectTransaction
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


async def apply_event(tx: DirectTransaction, payload: EventPayload, event: Event, settings: DashboardSettings) -> bool:
    """Fold `event` into its user's facts; False when it names no user (nothing to do). Three
    round trips and the commit, the statements of each pipelined (servicekit.direct)."""
    user_id = event.user_id()
    if user_id is None:
        return False
    # Serialise with every other handler (and the rebuild) for this user: a first row does not
    # exist to be locked, so two first events of one user would otherwise both start empty.
    await tx.queue(USER_LOCK, uid=str(user_id))
    generations = await tx.queue(repository.GENERATIONS)
    rows = await tx.queue(repository.FACTS_FOR_UPDATE, u=user_id)
    projection = await generations.one()
    assert projection is not None, "the projection row is seeded by the migrations"
    live, building = projection["live_generation"], projection["building_generation"]
    stored = {row["generation"]: row["state"] for row in await rows.all()}
    live_facts = UserFacts.empty(user_id)
    changed = False
    for generation in (live, building):
        if generation is None:
            continue
        raw = stored.get(generation)
        facts = UserFacts.model_validate_json(raw) if raw else UserFacts.empty(user_id)
        reduced = reduce(facts, payload, meta_of(event))
        if generation == live:
            live_facts = reduced
        if reduced != facts or raw is None:
            await tx.send(repository.STORE, g=generation, u=user_id, s=reduced.model_dump_json())
            changed = True
    if not changed:
        return True
    priority = REDUCERS[type(payload)].priority
    window = coalesce_window(settings, priority)
    request = await tx.queue(refresh_repository.REQUEST, u=user_id, p=priority, window=window)
    held = await tx.queue(snapshot_repository.VERSION_FOR_UPDATE, u=user_id) if settings.inline_refresh else None
    due = await request.one()
    if held is None or not (due and due["due"]):
        await tx.send(refresh_repository.NOTIFY)  # the scheduler writes it when due
        return True
    # Due now (a burst's leading edge, or urgent): written here from the facts in hand.
    await tx.send(refresh_repository.CLAIM_ONE, u=user_id)
    stored_version = await held.one()
    now = datetime.now(UTC)
    version = (stored_version["version"], stored_version["content_hash"]) if stored_version else (0, "")
    snapshot = next_version(user_id, live_facts, version, now)
    if snapshot is not None:
        await snapshot_repository.write_one(tx, now, snapshot.row())
        ANNOUNCER.after_commit(tx, [snapshot])
    return True
