"""The live relay passes a reconnecting browser's Last-Event-ID upstream only in the form the
dashboard takes: a Latin-1 "²" (a digit to isdigit) was a 500, a 19-digit one a 422 upstream."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("sent", ["\u00b2", "9" * 19, "12a", "-1"])
async def test_a_last_event_id_the_dashboard_would_refuse_is_dropped(
    browser: httpx.AsyncClient, gateway_calls: list[httpx.Request], sent: str
) -> None:
    # As the bytes a browser (or anyone) may send; the server reads header values as Latin-1.
    answer = await browser.get("/live", headers={b"Last-Event-ID": sent.encode("latin-1")})
    assert answer.status_code == 200
    upstream = [c for c in gateway_calls if c.url.path == "/api/v1/dashboard/me/stream"]
    assert len(upstream) == 1
    assert "last-event-id" not in upstream[0].headers


async def test_a_version_is_passed_on(browser: httpx.AsyncClient, gateway_calls: list[httpx.Request]) -> None:
    answer = await browser.get("/live", headers={"Last-Event-ID": "42"})
    assert answer.status_code == 200
    assert "event: close" in answer.text
    assert gateway_calls[-1].headers["last-event-id"] == "42"
