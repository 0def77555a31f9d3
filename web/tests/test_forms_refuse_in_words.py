"""A form value the app cannot turn into an API call is a 4xx page, never a 500: "nan" and
"inf" (JSON cannot carry them), digits int() refuses ("²"), and path-breaking characters in a
value that becomes part of an API path.

The gateway is played by the test (an httpx transport) that records every call and answers
404 problem+json, so a form that reaches the API renders the 404 page without further calls."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from journey_web.app import create_app
from journey_web.settings import WebSettings

APP = "http://journey.test"
HABIT = "00000000-0000-0000-0000-000000000001"
GOAL = "00000000-0000-0000-0000-000000000002"


class Gateway:
    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        problem = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no such thing"}
        return httpx.Response(404, json=problem, headers={"content-type": "application/problem+json"})


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


@pytest.fixture
async def browser(gateway: Gateway) -> httpx.AsyncClient:
    settings = WebSettings(environment="test", web_session_secret="w" * 40, jwt_secret="j" * 40, public_base_url=APP)
    app = create_app(settings)
    app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(gateway.handle), base_url="http://gateway.test")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=APP)
    page = await client.get("/signin")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    signed_in = await client.post("/signin", data={"name": "ada", "csrf_token": csrf.group(1), "next": "/"})
    assert signed_in.status_code == 303
    return client


async def _form_token(browser: httpx.AsyncClient) -> str:
    page = await browser.get("/no-such-page")  # any page a student sees carries the sign-out form
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


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
    browser: httpx.AsyncClient, gateway: Gateway, path: str, form: dict[str, str]
) -> None:
    token = await _form_token(browser)
    answer = await browser.post(path, data={**form, "csrf_token": token})
    assert answer.status_code < 500, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    for call in gateway.calls:
        # Whatever reached the gateway stayed inside the path the page meant, with JSON it can parse.
        assert call.url.path.startswith(("/api/v1/coaching/", "/api/v1/missions/catalog/")), call.url
        assert b"/billing" not in call.url.raw_path, call.url
        assert not call.url.query, call.url
        if "/habits/" in path:  # the date is the last segment of the check-in's own path
            assert call.url.path.startswith(f"/api/v1/coaching/habits/{HABIT}/logs/"), call.url
        if call.content:
            json.loads(call.content)
