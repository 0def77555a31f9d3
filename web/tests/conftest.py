"""A signed-in browser on the web app, with the gateway played by the test: an httpx transport
that records every call (`gateway_calls`) and answers 404 problem+json, except the dashboard's
stream, which it opens and closes at once."""

from __future__ import annotations

import re

import httpx
import pytest

from journey_web.app import create_app
from journey_web.settings import WebSettings

APP = "http://journey.test"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def gateway_calls() -> list[httpx.Request]:
    return []


@pytest.fixture
async def browser(gateway_calls: list[httpx.Request]) -> httpx.AsyncClient:
    def gateway(request: httpx.Request) -> httpx.Response:
        gateway_calls.append(request)
        if request.url.path == "/api/v1/dashboard/me/stream":
            return httpx.Response(200, text="event: close\ndata:\n\n", headers={"content-type": "text/event-stream"})
        problem = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no such thing"}
        return httpx.Response(404, json=problem, headers={"content-type": "application/problem+json"})

    settings = WebSettings(environment="test", web_session_secret="w" * 40, jwt_secret="j" * 40, public_base_url=APP)
    app = create_app(settings)
    transport = httpx.MockTransport(gateway)
    app.state.http = httpx.AsyncClient(transport=transport, base_url="http://gateway.test")
    app.state.stream_http = httpx.AsyncClient(transport=transport, base_url="http://gateway.test")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=APP)
    page = await client.get("/signin")
    found = CSRF.search(page.text)
    assert found is not None
    signed_in = await client.post("/signin", data={"name": "ada", "csrf_token": found.group(1), "next": "/"})
    assert signed_in.status_code == 303
    return client


@pytest.fixture
async def csrf_token(browser: httpx.AsyncClient) -> str:
    """The signed-in session's form token, as any page carries it (the sign-out form)."""
    page = await browser.get("/no-such-page")
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)
