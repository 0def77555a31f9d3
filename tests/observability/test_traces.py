"""One trace from the client's request through the API, the outbox relay's publish and the
persona worker's handling, recorded by an in-memory span exporter."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from servicekit.testing import eventually, only_span

REQUESTED = "journey.profiler.persona.requested"


async def test_completing_a_session_is_one_trace_through_api_relay_and_persona_worker(
    client: Any, worker: Any, users: Any, complete: Any, spans: InMemorySpanExporter
) -> None:
    session_id, _ = await complete(client, users)

    def finished() -> list[ReadableSpan]:
        return list(spans.get_finished_spans())

    async def handled() -> list[ReadableSpan] | None:
        found = [
            s
            for s in finished()
            if s.name == f"process {REQUESTED}"
            and (s.attributes or {}).get("messaging.consumer.group.name") == "profiler-persona-writer"
        ]
        return found or None

    await eventually(handled, within=20)
    everything = finished()
    api = only_span(
        [
            s
            for s in everything
            if s.kind == SpanKind.SERVER
            and str((s.attributes or {}).get("http.route", "")).endswith("/sessions/{session_id}/complete")
        ],
        "API spans of the complete request",
    )
    trace_id = api.context.trace_id
    in_trace = [s for s in everything if s.context.trace_id == trace_id]
    publish = only_span([s for s in in_trace if s.name == f"publish {REQUESTED}"], "relay publish spans")
    # Every consumer of the event continues the trace (in a full run the dashboard's worker is
    # one); the persona worker's deliveries are those of its group. At least once: under load
    # JetStream may hand it the event again, each delivery its own span under the same publish.
    consumed = [s for s in in_trace if s.name == f"process {REQUESTED}"]
    group = "messaging.consumer.group.name"
    deliveries = [s for s in consumed if (s.attributes or {}).get(group) == "profiler-persona-writer"]
    assert deliveries, f"persona worker spans among {[(s.attributes or {}).get(group) for s in consumed]}"
    process = deliveries[0]

    assert publish.kind == SpanKind.PRODUCER
    for delivery in consumed:
        assert delivery.kind == SpanKind.CONSUMER
        assert delivery.parent is not None
        assert delivery.parent.span_id == publish.context.span_id
    # The chain: the request (or a span inside it) emitted the event, the relay published it,
    # the worker handled what the relay published.
    span_ids = {s.context.span_id for s in in_trace}
    assert publish.parent is not None
    assert publish.parent.span_id in span_ids
    assert process.parent is not None
    assert process.parent.span_id == publish.context.span_id
    assert (api.start_time or 0) < (publish.start_time or 0) < (process.start_time or 0)
    assert session_id in str((api.attributes or {}).get("url.path", ""))
