"""`GET /me`, `POST /me/refresh` and `GET /me/stream` (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from dashboard.live.hub import CLOSE, RESYNC, Listener, StreamCapReached, Version, hub_of
from dashboard.me import service
from dashboard.me.schemas import RefreshAccepted
from dashboard.settings import DashboardSettings
from dashboard.snapshot.schemas import Dashboard, Snapshot
from servicekit import tracing
from servicekit.auth import CurrentPrincipal
from servicekit.deps import DbSession
from servicekit.errors import TooManyRequests
from servicekit.openapi import problem_responses
from servicekit.tracing import SpanKind

router = APIRouter(tags=["dashboard"])
NO_STORE = "private, no-cache"
RECONNECT_MS = 2000


def _settings(request: Request) -> DashboardSettings:
    settings: DashboardSettings = request.app.state.settings
    return settings


@router.get(
    "/me",
    response_model=Dashboard,
    responses={304: {"description": "unchanged: the `If-None-Match` ETag is the current version"}},
)
async def get_me(
    principal: CurrentPrincipal,
    request: Request,
    if_none_match: Annotated[str | None, Header(max_length=512)] = None,
) -> Response:
    """The caller's dashboard from its snapshot (at most one indexed read; the process's cache,
    validated by the announced versions, usually spares it), `ETag` = version."""
    hub = hub_of(request.app)
    current = await service.cached(request.app.state.direct_pool, hub.cache, principal.user_id)
    tag = service.etag(current.version)
    headers = {"ETag": tag, "Cache-Control": NO_STORE}
    if service.matches(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    body = service.with_lag(current.document, hub.lag_json)
    return Response(body, media_type="application/json", headers=headers)


@router.post(
    "/me/refresh",
    status_code=202,
    response_model=RefreshAccepted,
    responses=problem_responses((429, "refreshed too recently (Retry-After); also the gateway's rate limit")),
)
async def refresh_me(db: DbSession, principal: CurrentPrincipal, request: Request) -> RefreshAccepted:
    """Recompute the caller's snapshot from the dashboard's stored facts, at the most urgent
    priority. Naturally idempotent (a retry queues the same recompute), so no Idempotency-Key."""
    version = await service.request_refresh(db, principal.user_id, _settings(request).refresh_interval_seconds)
    return RefreshAccepted(current_version=version)


@dataclass
class OpenStream:
    listener: Listener
    current: service.Current
    user_id: uuid.UUID


async def open_stream(request: Request, principal: CurrentPrincipal) -> AsyncIterator[OpenStream]:
    """Before the stream starts (so refusals are proper answers): a place among the caller's
    listeners (429 over the cap), then the current snapshot (after subscribing: no version can
    fall between the two)."""
    hub = hub_of(request.app)
    try:
        async with hub.listen(principal.user_id) as listener:
            current = await service.current_in_own_transaction(request.app.state.direct_pool, principal.user_id)
            yield OpenStream(listener, current, principal.user_id)
    except StreamCapReached:
        error = TooManyRequests(f"at most {hub.streams_per_user} open dashboard streams per user")
        error.headers = {"Retry-After": "5"}
        raise error from None


@router.get(
    "/me/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "Server-Sent Events: `snapshot` (data: the Snapshot, id: its version) first and at "
            "each new version, `resync` after a slow client missed versions, `close` on shutdown, "
            "comments as heartbeats",
            "content": {
                "text/event-stream": {"schema": Snapshot.model_json_schema(ref_template="#/components/schemas/{model}")}
            },
        },
        **problem_responses((429, "too many open streams for this user (Retry-After)")),
    },
)
async def stream_me(
    request: Request,
    opened: Annotated[OpenStream, Depends(open_stream)],
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", pattern=r"^[0-9]{1,18}$", description="resume after this version")
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    """The caller's snapshot now (unless `Last-Event-ID` is already the current version), then
    every new version as it is written."""
    settings = _settings(request)
    sent = int(last_event_id) if last_event_id is not None else -1
    current = opened.current
    if current.version != sent:
        yield ServerSentEvent(event="snapshot", id=str(current.version), raw_data=current.document, retry=RECONNECT_MS)
        sent = current.version
    queue = opened.listener.queue
    while True:
        try:
            item = await asyncio.wait_for(queue.get(), timeout=settings.sse_heartbeat_seconds)
        except TimeoutError:
            yield ServerSentEvent(comment="heartbeat")
            continue
        if item is CLOSE:
            yield ServerSentEvent(event="close", data={"reason": "server shutting down"}, retry=RECONNECT_MS)
            return
        if item is RESYNC:
            fresh = await service.current_in_own_transaction(request.app.state.direct_pool, opened.user_id)
            yield ServerSentEvent(event="resync", id=str(fresh.version), raw_data=fresh.document)
            sent = max(sent, fresh.version)
        elif isinstance(item, Version) and item.version > sent:
            # Held over the yield (not made current): it ends once the event is written out.
            pushed: dict[str, str | int] = {"dashboard.snapshot.version": item.version, "user.id": str(opened.user_id)}
            push = tracing.span(
                "dashboard.sse.push", parent=item.traceparent, kind=SpanKind.PRODUCER, attributes=pushed, current=False
            )
            with push:
                yield ServerSentEvent(event="snapshot", id=str(item.version), data=item.document)
            sent = item.version
