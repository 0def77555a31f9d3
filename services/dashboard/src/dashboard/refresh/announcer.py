"""Telling every API process about new snapshot versions (NATS core, at most once), after the
transaction that wrote them commits.

The refresh scheduler and the rebuild announce what they wrote after their own commit. A
consumer that writes a snapshot itself (a burst's leading edge) runs inside the kit's consumer
transaction, so it registers the announcement to fire when that transaction commits, through
the worker process's scheduler connection (`ANNOUNCER`, attached while the scheduler runs).

With tracing on, each announcement carries the W3C `traceparent` of the span that wrote the
version in its headers (the consumer's handling span, or the scheduler's batch span), so the
API process's SSE push continues that trace; off, no headers are sent."""

from __future__ import annotations

import asyncio
import contextlib

from nats.aio.client import Client as NATS

from dashboard.live.announce import encode, snapshot_subject
from dashboard.snapshot.service import Written
from servicekit import tracing
from servicekit.direct import DirectTransaction
from servicekit.logging import get_logger

log = get_logger(__name__)


async def announce(nc: NATS | None, written: list[Written], traceparent: str | None = None) -> None:
    if nc is None:
        return
    headers = {"traceparent": traceparent} if traceparent else None
    for item in written:
        try:
            await nc.publish(snapshot_subject(item.user_id), encode(item.version, item.document), headers=headers)
        except Exception as exc:  # at most once: readers fall back to the table
            log.warning("announce_failed", error=repr(exc))
            return
    with contextlib.suppress(Exception):
        await nc.flush(timeout=1)


class Announcer:
    def __init__(self) -> None:
        self.nc: NATS | None = None
        self._sending: set[asyncio.Task[None]] = set()

    def attach(self, nc: NATS | None) -> None:
        self.nc = nc

    def after_commit(self, tx: DirectTransaction, written: list[Written]) -> None:
        """Announce `written` once `tx` commits (never if it rolls back)."""
        if not written:
            return
        traceparent = tracing.current_traceparent()  # the consumer's handling span, when tracing

        def fire() -> None:
            task = asyncio.get_running_loop().create_task(announce(self.nc, written, traceparent))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

        tx.after_commit(fire)


ANNOUNCER = Announcer()
