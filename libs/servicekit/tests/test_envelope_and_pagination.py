from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import structlog

from servicekit.errors import ProblemError
from servicekit.events import Event, new_event
from servicekit.pagination import decode_cursor, encode_cursor


def test_new_event_fills_the_envelope_and_carries_the_request_id() -> None:
    user = uuid.uuid4()
    structlog.contextvars.bind_contextvars(request_id="req-7")
    try:
        event = new_event("journey.profiler.persona.generated", user_id=user, data={"a": 1})
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    assert event.source == "profiler"
    assert event.subject == str(user)
    assert event.user_id() == user
    assert event.request_id == "req-7"
    assert event.time.tzinfo is not None
    round_trip = Event.model_validate_json(event.model_dump_json())
    assert round_trip == event


def test_a_system_subject_has_no_user() -> None:
    assert Event(type="journey.billing.x.y", source="billing", subject="stripe").user_id() is None


def test_cursor_round_trip_and_garbage() -> None:
    stamp, id_ = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), uuid.uuid4()
    assert decode_cursor(encode_cursor(stamp, id_)) == (stamp, id_)
    with pytest.raises(ProblemError) as caught:
        decode_cursor("!!!not-a-cursor")
    assert caught.value.status == 400


def test_events_carry_the_w3c_traceparent_of_their_cause() -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    structlog.contextvars.bind_contextvars(traceparent=traceparent)
    try:
        event = new_event("journey.profiler.persona.generated", user_id=None, data={})
    finally:
        structlog.contextvars.unbind_contextvars("traceparent")
    assert event.traceparent == traceparent
    assert new_event("journey.profiler.persona.generated", user_id=None, data={}).traceparent is None
    with pytest.raises(ValueError, match="traceparent"):
        Event(type="journey.a.b.c", source="a", subject="system", traceparent="not-a-trace")
