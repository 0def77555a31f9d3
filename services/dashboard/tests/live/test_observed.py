"""What an operator sees of the live streams: a version pushed on a stream continues the trace of
the event that wrote it (and a coalesced one the scheduler's own trace), and the open-streams
gauge follows the streams."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from dashboard.facts.reducers import Priority
from dashboard.testing import at, envelope, habit_created, tier_changed
from servicekit import tracing
from servicekit.testing import eventually, only_span

from .test_stream import STREAM, events, next_event

PUSH = "dashboard.sse.push"


async def _pushed(spans: InMemorySpanExporter, user_id: Any, version: str) -> ReadableSpan:
    """The push span of `version` on `user_id`'s stream."""

    async def find() -> ReadableSpan | None:
        found = [
            s
            for s in spans.get_finished_spans()
            if s.name == PUSH
            and (s.attributes or {}).get("user.id") == str(user_id)
            and str((s.attributes or {}).get("dashboard.snapshot.version")) == version
        ]
        return found[0] if found else None

    return await eventually(find, within=10)


async def test_a_pushed_version_continues_the_trace_of_the_event_that_wrote_it(
    live_server: Any, users: Any, publish: Any, worker: Any, scheduler: Any, spans: InMemorySpanExporter
) -> None:
    _, base = live_server
    ada = users.new("traced")
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        async with http.stream("GET", STREAM, headers=users.headers(ada)) as response:
            frames = events(response)
            await next_event(frames, kind="snapshot")
            # The producer's request, as its API span would emit the event.
            with tracing.span("POST /request", parent=None, kind=SpanKind.SERVER):
                event = envelope(tier_changed("plus", when=at(1)), users.id(ada)).model_copy(
                    update={"traceparent": tracing.current_traceparent()}
                )
            await publish(None, users.id(ada), event=event)
            upgraded = await next_event(frames, kind="snapshot")
            push = await _pushed(spans, users.id(ada), upgraded["id"])

    everything = list(spans.get_finished_spans())
    origin = only_span([s for s in everything if s.name == "POST /request"], "origin spans")
    trace_id = origin.context.trace_id
    in_trace = [s for s in everything if s.context.trace_id == trace_id]
    process = only_span(
        [
            s
            for s in in_trace
            if s.name == f"process {event.type}"
            and (s.attributes or {}).get("messaging.consumer.group.name") == "dashboard-billing-tier-changed"
        ],
        "dashboard consumer spans",
    )
    # An urgent event's snapshot is written by the consumer itself (the leading edge), inside its
    # handling span: the announcement carries that span on to the API process's push.
    assert process.parent is not None
    assert process.parent.span_id == origin.context.span_id
    assert push.context.trace_id == trace_id
    assert push.parent is not None
    assert push.parent.span_id == process.context.span_id
    assert push.kind == SpanKind.PRODUCER


async def test_a_version_the_scheduler_writes_is_pushed_in_its_own_trace(
    live_server: Any, users: Any, infra: Any, publish: Any, worker: Any, scheduler: Any, spans: InMemorySpanExporter
) -> None:
    _, base = live_server
    bo = users.new("coalesced")
    user_id = users.id(bo)
    # As if the user's snapshot had just been written: the next request waits for the end of
    # the coalescing window, and the scheduler writes it (a burst's trailing edge).
    with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO dashboard.refresh_queue (user_id, pending, priority, due_at, requested_at, rendered_at) "
            "VALUES (%s, false, %s, now(), now(), now() + interval '3 seconds')",
            (user_id, int(Priority.ACTIVITY)),
        )
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        async with http.stream("GET", STREAM, headers=users.headers(bo)) as response:
            frames = events(response)
            await next_event(frames, kind="snapshot")
            with tracing.span("POST /habits", parent=None, kind=SpanKind.SERVER):
                created = envelope(habit_created(uuid.uuid4()), user_id).model_copy(
                    update={"traceparent": tracing.current_traceparent()}
                )
            await publish(None, user_id, event=created)
            written = await next_event(frames, kind="snapshot", within=20)
            push = await _pushed(spans, user_id, written["id"])

    everything = list(spans.get_finished_spans())
    origin = only_span([s for s in everything if s.name == "POST /habits"], "origin spans")
    assert push.parent is not None
    batch = only_span([s for s in everything if s.context.span_id == push.parent.span_id], "the push's parent")
    assert batch.name == "dashboard.refresh.announce", f"written by {batch.name}, not the scheduler"
    assert push.context.trace_id != origin.context.trace_id
    assert batch.parent is None  # a trace of its own: a coalesced batch has no single origin
    assert push.context.trace_id == batch.context.trace_id


def _open_streams() -> float:
    value = REGISTRY.get_sample_value("journey_dashboard_sse_streams")
    assert value is not None
    return value


async def test_the_open_streams_gauge_follows_the_streams(live_server: Any, users: Any) -> None:
    _, base = live_server
    name = users.new("gauged")
    await eventually(lambda: _now(0))  # the streams of earlier tests are closed
    before = 0
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        async with http.stream("GET", STREAM, headers=users.headers(name)) as response:
            frames = events(response)  # held: a finalised reader would close its stream
            await next_event(frames, kind="snapshot")
            assert _open_streams() == before + 1
            async with http.stream("GET", STREAM, headers=users.headers(name)) as another:
                more = events(another)
                await next_event(more, kind="snapshot")
                assert _open_streams() == before + 2
            await eventually(lambda: _now(before + 1))

    await eventually(lambda: _now(before))


async def _now(expected: float) -> bool:
    return _open_streams() == expected
