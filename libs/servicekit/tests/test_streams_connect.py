"""The kit's NATS connection: what it logs about the broker going away."""

from __future__ import annotations

from typing import Any

import pytest

from servicekit.events import streams


class _Recorder:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, event: str, **_: Any) -> None:
        self.warnings.append(event)

    def info(self, event: str, **_: Any) -> None:
        pass


async def test_closing_the_connection_is_not_reported_as_a_disconnect(
    infra: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an attack round: every clean shutdown (`make rebuild-dashboard` last of all, as the
    README's journey ends) logged `nats_disconnected` at warning level, the line an operator
    watches for a broker outage."""
    recorder = _Recorder()
    monkeypatch.setattr(streams, "log", recorder)
    nc = await streams.connect(infra.nats_url, "kit-close-test")
    await nc.close()
    assert recorder.warnings == []
