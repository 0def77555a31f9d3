"""Domain events: envelope, transactional outbox, relay, consumers, streams."""

from servicekit.events.envelope import Event, new_event
from servicekit.events.typed import emit, on

__all__ = ["Event", "emit", "new_event", "on"]
