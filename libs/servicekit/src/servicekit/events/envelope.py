"""The event envelope every service publishes and consumes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import BaseModel, Field

from servicekit import tracing

TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


class Event(BaseModel):
    """`type` is also the NATS subject; `subject` is the user the event is about."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    source: str
    subject: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    version: int = 1
    data: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None
    # W3C trace context of the request (or event) that caused this one, carried on as is.
    traceparent: str | None = Field(default=None, pattern=TRACEPARENT_PATTERN)

    def user_id(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(self.subject)
        except ValueError:
            return None


SYSTEM_SUBJECT = "system"


def new_event(type_: str, *, user_id: uuid.UUID | None, data: dict[str, Any], version: int = 1) -> Event:
    """Build an event for `user_id` (None: not yet known, subject "system"), carrying the
    current request id and trace context on: the active span's when tracing is on, otherwise
    the incoming request's (or event's) `traceparent` as it came."""
    source = type_.split(".")[1] if type_.count(".") >= 3 else "unknown"
    context = structlog.contextvars.get_contextvars()
    subject = str(user_id) if user_id else SYSTEM_SUBJECT
    return Event(
        type=type_,
        source=source,
        subject=subject,
        data=data,
        version=version,
        request_id=context.get("request_id"),
        traceparent=tracing.current_traceparent() or context.get("traceparent"),
    )
