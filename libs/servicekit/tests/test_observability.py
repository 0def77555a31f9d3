"""Request metrics by route template, and what tracing adds (and does not add when off): log
trace ids, the events' `traceparent`, the kit's spans."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import structlog
from fastapi import APIRouter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY
from pydantic import BaseModel

from servicekit import tracing
from servicekit.app import create_app
from servicekit.events import new_event
from servicekit.metrics import HTTP_REQUESTS
from servicekit.settings import ServiceSettings
from servicekit.testing import recorded_spans

router = APIRouter()


class Note(BaseModel):
    text: str


@router.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@router.post("/notes")
async def note(body: Note) -> dict[str, str]:
    return {"text": body.text}


def _client(service: str) -> httpx.AsyncClient:
    app = create_app(ServiceSettings(service_name=service, environment="test"), [router])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://t/api/v1/{service}")


def _count(service: str, route: str, method: str, status: str) -> float:
    labels = {"service": service, "route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("journey_http_requests_total", labels) or 0.0


async def test_requests_are_counted_by_route_template_never_by_raw_path() -> None:
    async with _client("metered") as client:
        for item_id in (1, 2, 3):
            assert (await client.get(f"/items/{item_id}")).status_code == 200
        assert (await client.get("/items/not-a-number")).status_code == 422
        assert (await client.get("/nowhere/at/all")).status_code == 404
        # Refused by the kit's own guard (a NUL) before any route ran: still counted.
        assert (await client.post("/notes", json={"text": "a\x00b"})).status_code == 422
        assert (await client.request("BREW", "/items/1")).status_code == 405

    template = "/api/v1/metered/items/{item_id}"
    assert _count("metered", template, "GET", "200") == 3
    assert _count("metered", template, "GET", "422") == 1
    assert _count("metered", "unmatched", "GET", "404") == 1
    assert _count("metered", "unmatched", "POST", "422") == 1
    assert _count("metered", template, "OTHER", "405") == 1
    series = {sample.labels["route"] for sample in next(iter(HTTP_REQUESTS.collect())).samples}
    assert not any("/items/1" in route or "/items/2" in route for route in series)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


def test_off_the_kit_records_nothing_and_events_carry_the_incoming_traceparent() -> None:
    assert not tracing.active()
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    structlog.contextvars.bind_contextvars(traceparent=incoming)
    try:
        with tracing.span("work", parent=incoming, kind=SpanKind.INTERNAL) as span:
            assert span is None
            event = new_event("journey.kit.thing.happened", user_id=None, data={})
            logged = tracing.add_trace_ids(None, "info", {"event": "x"})
    finally:
        structlog.contextvars.unbind_contextvars("traceparent")
    assert event.traceparent == incoming
    assert "trace_id" not in logged


def test_on_a_span_continues_the_parent_and_its_events_and_logs_carry_it(spans: InMemorySpanExporter) -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with tracing.span("process thing", parent=parent, kind=SpanKind.CONSUMER) as span:
        assert span is not None
        event = new_event("journey.kit.thing.happened", user_id=None, data={})
        logged = tracing.add_trace_ids(None, "info", {"event": "x"})
        headers: dict[str, str] = {}
        tracing.inject(headers)
    (finished,) = spans.get_finished_spans()
    trace_id = f"{finished.context.trace_id:032x}"
    span_id = f"{finished.context.span_id:016x}"
    assert trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert finished.parent is not None
    assert finished.parent.span_id == 0x00F067AA0BA902B7
    assert event.traceparent == f"00-{trace_id}-{span_id}-01"
    assert headers["traceparent"] == event.traceparent
    assert logged["trace_id"] == trace_id
    assert logged["span_id"] == span_id


def test_after_disable_nothing_more_is_recorded(spans: InMemorySpanExporter) -> None:
    tracing.disable()
    with tracing.span("ignored", parent=None, kind=SpanKind.INTERNAL) as span:
        assert span is None
    assert spans.get_finished_spans() == ()
