"""Domain events: envelope, transactional outbox, relay, consumers, streams."""

from servicekit.events.envelope import Event, new_event
from servicekit.events.typed import emit, emit_direct, on

__all__ = ["Event", "emit", "emit_direct", "new_event", "on"]
