"""What an operator sees of the live streams: a version pushed on a stream continues the trace of
the event that wrote it (and a coalesced one the scheduler's own trace), and the open-streams
gauge follows the streams."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from dashboard.facts.service import apply_event
from dashboard.testing import at, envelope, habit_created, tier_changed
from servicekit import tracing
from servicekit.db import create_engine, user_transaction
from servicekit.testing import eventually, recorded_spans

from .test_stream import STREAM, events, next_event

PUSH = "dashboard.sse.push"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


def _one(found: list[ReadableSpan], what: str) -> ReadableSpan:
    assert len(found) == 1, f"{what}: {[s.name for s in found]}"
    return found[0]


async def _pushed(spans: InMemorySpanExporter, version: str) -> ReadableSpan:
    async def find() -> ReadableSpan | None:
        found = [
            s
            for s in spans.get_finished_spans()
            if s.name == PUSH and str((s.attributes or {}).get("dashboard.snapshot.version")) == version
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
            push = await _pushed(spans, upgraded["id"])

    everything = list(spans.get_finished_spans())
    origin = _one([s for s in everything if s.name == "POST /request"], "origin spans")
    trace_id = origin.context.trace_id
    in_trace = [s for s in everything if s.context.trace_id == trace_id]
    process = _one([s for s in in_trace if s.name == f"process {event.type}"], "dashboard consumer spans")
    # An urgent event's snapshot is written by the consumer itself (the leading edge), inside its
    # handling span: the announcement carries that span on to the API process's push.
    assert process.parent is not None
    assert process.parent.span_id == origin.context.span_id
    assert (process.attributes or {})["messaging.consumer.group.name"] == "dashboard-billing-tier-changed"
    assert push.context.trace_id == trace_id
    assert push.parent is not None
    assert push.parent.span_id == process.context.span_id
    assert push.kind == SpanKind.PRODUCER


async def test_a_version_the_scheduler_writes_is_pushed_in_its_own_trace(
    live_server: Any, users: Any, settings: Any, scheduler: Any, spans: InMemorySpanExporter
) -> None:
    _, base = live_server
    bo = users.new("coalesced")
    user_id, habit = users.id(bo), uuid.uuid4()
    queued = settings.model_copy(update={"inline_refresh": False})  # a burst's trailing edge: queued
    engine = create_engine(settings.worker_dsn, pool_size=1)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=15) as http:
            async with http.stream("GET", STREAM, headers=users.headers(bo)) as response:
                frames = events(response)
                await next_event(frames, kind="snapshot")
                with tracing.span("process habit.created", parent=None, kind=SpanKind.CONSUMER) as handling:
                    async with user_transaction(engine, user_id) as db:
                        created = habit_created(habit)
                        assert await apply_event(db, created, envelope(created, user_id), queued)
                written = await next_event(frames, kind="snapshot")
                push = await _pushed(spans, written["id"])
    finally:
        await engine.dispose()

    assert handling is not None
    assert push.context.trace_id != handling.get_span_context().trace_id
    assert push.parent is not None
    (batch,) = [s for s in spans.get_finished_spans() if s.context.span_id == push.parent.span_id]
    assert batch.name == "dashboard.refresh.announce"
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
