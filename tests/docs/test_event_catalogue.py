"""docs/events.md's catalogue is what the contracts and the service definitions say."""

from __future__ import annotations

from contracts.payload import all_payloads
from journey_local import event_catalogue
from servicekit.events.streams import stream_name


def test_the_catalogue_is_current() -> None:
    current = event_catalogue.DOC.read_text()
    assert event_catalogue.MARKER in current
    assert event_catalogue.document(current) == current, "stale: run `python -m journey_local events-doc`"


def test_every_subscription_consumes_a_documented_payload() -> None:
    documented = {p.SUBJECT: p for p in all_payloads()}
    for subject in event_catalogue.consumers():
        assert subject in documented, f"a consumer listens to {subject}, which no contract declares"


def test_the_catalogue_names_each_payloads_stream_and_consumers() -> None:
    text = event_catalogue.render()
    for payload in all_payloads():
        assert f"### `{payload.SUBJECT}`" in text
        assert f"stream `{stream_name(payload.service())}`" in text
    assert "`profiler-tier-cache` (profiler)" in text
