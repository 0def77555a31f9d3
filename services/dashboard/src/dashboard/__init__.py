"""Dashboard: one live per-user view built only from events, pushed over SSE, rebuildable from
the streams."""

SCHEMA = "dashboard"
