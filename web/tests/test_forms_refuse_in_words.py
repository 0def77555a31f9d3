"""A form value the app cannot turn into an API call is a 4xx page, never a 500: "nan" and
"inf" (JSON cannot carry them), digits int() refuses ("²"), and path-breaking characters in a
value that becomes part of an API path.

The gateway is played by the test (conftest's `browser`), which answers 404 problem+json, so a
form that reaches the API renders the 404 page without further calls."""

from __future__ import annotations

import json

import httpx
import pytest

HABIT = "00000000-0000-0000-0000-000000000001"
GOAL = "00000000-0000-0000-0000-000000000002"


FORMS = [
    ("/today/habits", {"name": "run", "kind": "measurable", "unit": "km", "target": "nan"}),
    ("/today/habits", {"name": "run", "schedule_kind": "weekly", "times": "inf"}),
    ("/today/habits", {"name": "run", "schedule_kind": "weekdays", "weekdays": "²"}),
    (f"/today/habits/{HABIT}/checkin", {"date": "2026-01-01", "value": "-inf"}),
    (f"/today/habits/{HABIT}/checkin", {"date": "\x01"}),
    (f"/today/habits/{HABIT}/undo", {"date": "2026-01-01/../../../billing/portal?x=1#y"}),
    (f"/today/habits/{HABIT}/checkin", {"date": ".."}),
    ("/today/goals", {"title": "read", "target_value": "NaN"}),
    (f"/today/goals/{GOAL}/progress", {"milestone": "first"}),
    (f"/today/goals/{GOAL}/progress", {"delta": "1e999"}),
    ("/journal", {"text": "a good day", "mood": "³"}),
    ("/missions/catalog/%01/start", {}),
    ("/missions/catalog/..%2F..%2Fbilling%2Fcheckout/start", {}),
]


@pytest.mark.parametrize(("path", "form"), FORMS, ids=[f"{p} {f}" for p, f in FORMS])
async def test_an_unusable_form_value_is_answered_in_words(
    browser: httpx.AsyncClient, gateway_calls: list[httpx.Request], csrf_token: str, path: str, form: dict[str, str]
) -> None:
    answer = await browser.post(path, data={**form, "csrf_token": csrf_token})
    assert answer.status_code < 500, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    for call in gateway_calls:
        # Whatever reached the gateway stayed inside the path the page meant, with JSON it can parse.
        assert call.url.path.startswith(("/api/v1/coaching/", "/api/v1/missions/catalog/")), call.url
        assert b"/billing" not in call.url.raw_path, call.url
        assert not call.url.query, call.url
        if "/habits/" in path:  # the date is the last segment of the check-in's own path
            assert call.url.path.startswith(f"/api/v1/coaching/habits/{HABIT}/logs/"), call.url
        if call.content:
            json.loads(call.content)
