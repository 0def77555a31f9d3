"""Domain events: envelope, transactional outbox, relay, consumers, streams."""

from servicekit.events.envelope import Event, new_event

__all__ = ["Event", "new_event"]
