"""Test helpers shared by every service's tests (servers come from the root conftest), and the
fixtures a service's tests get from its definition:

    # services/coaching/tests/conftest.py
    fixtures = service_fixtures(service)      # settings, client, worker, users
    settings, client, worker, users = fixtures.settings, fixtures.client, fixtures.worker, fixtures.users

A conftest that needs other settings defines a `settings_overrides` fixture returning a dict."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.types import Message, Scope

from servicekit import tracing
from servicekit.auth import dev_user_id, mint_dev_token
from servicekit.events.consumer import Subscription
from servicekit.service import ServiceDefinition
from servicekit.settings import ServiceSettings
from servicekit.worker import Worker

T = TypeVar("T")


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the ASGI app with its lifespan running (engine opened and closed)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@asynccontextmanager
async def running_worker(
    settings: ServiceSettings, schema: str, subscriptions: Sequence[Subscription]
) -> AsyncIterator[Worker]:
    """A service's worker in the test's event loop: relay and consumers against real NATS."""
    worker = Worker(settings, schema, subscriptions)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


@dataclass(frozen=True)
class ServiceFixtures:
    settings: Any
    client: Any
    worker: Any
    users: Any


def service_fixtures(definition: ServiceDefinition[Any], *, prefix: str = "") -> ServiceFixtures:
    """Session fixtures `<prefix>settings`, `<prefix>client` (the API in-process, lifespan
    running), `<prefix>worker` (relay, consumers) and `users`, on the root conftest's `infra`."""

    @pytest.fixture(scope="session", name=f"{prefix}settings")
    def settings(infra: Any, request: pytest.FixtureRequest) -> ServiceSettings:
        try:
            overrides: dict[str, Any] = request.getfixturevalue("settings_overrides")
        except pytest.FixtureLookupError:
            overrides = {}
        roles = {"database_url": "app", "worker_database_url": "worker"}
        if definition.system_role:
            roles["system_database_url"] = "system"
        dsns = {field: infra.dsn(f"{definition.name}_{role}") for field, role in roles.items()}
        values = {"environment": "test", "nats_url": infra.nats_url, "consumer_watchdog_seconds": 2.0, **dsns}
        made: ServiceSettings = definition.settings(**{**values, **overrides})
        return made

    @pytest.fixture(scope="session", name=f"{prefix}client")
    async def client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
        async with app_client(definition.app(request.getfixturevalue(f"{prefix}settings"))) as c:
            yield c

    @pytest.fixture(scope="session", name=f"{prefix}worker")
    async def worker(request: pytest.FixtureRequest) -> AsyncIterator[Worker]:
        service_settings = request.getfixturevalue(f"{prefix}settings")
        async with running_worker(service_settings, definition.schema, definition.subscriptions(service_settings)) as w:
            yield w

    @pytest.fixture(scope="session", name="users")
    def users(request: pytest.FixtureRequest) -> Users:
        return Users(request.getfixturevalue(f"{prefix}settings"))

    return ServiceFixtures(settings, client, worker, users)


class Users:
    """Fresh user names per test, so tests never see each other's rows."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings

    def new(self, label: str = "user") -> str:
        return f"{label}-{uuid.uuid4().hex[:10]}"

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_dev_token(self.settings, name)}"}

    def id(self, name: str) -> uuid.UUID:
        return dev_user_id(name)


async def eventually(check: Callable[[], Awaitable[T | None]], *, within: float = 10.0, interval: float = 0.1) -> T:
    """Poll `check` until it returns something truthy; fail with the last value otherwise."""
    deadline = time.monotonic() + within
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within}s (last value: {last!r})")


@contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, each finished span kept in memory; off again after (OpenTelemetry's provider
    stays installed, so the rest of the session records nothing)."""
    exporter = InMemorySpanExporter()
    tracing.enable(SimpleSpanProcessor(exporter))
    try:
        yield exporter
    finally:
        tracing.disable()
        exporter.clear()


def only_span(found: list[ReadableSpan], what: str) -> ReadableSpan:
    """The one span in `found`; the assertion names `what` and lists the spans when it is not one."""
    assert len(found) == 1, f"{what}: {[s.name for s in found]}"
    return found[0]


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert `response` is an RFC 9457 problem with `status`; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def open_stream(app: FastAPI, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
    """Call an endpoint that may answer with an endless stream (Server-Sent Events): the answer
    with its status, headers and first chunk, then the client goes away, as a browser tab would.
    (httpx's ASGI transport waits for the whole body, which a stream never finishes.)"""
    parts = httpx.URL(url)
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": parts.path,
        "raw_path": parts.raw_path.split(b"?")[0],
        "query_string": parts.query,
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    start: dict[str, Any] = {}
    body = bytearray()
    answered = asyncio.Event()
    sent_request = False

    async def receive() -> Message:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if body or not message.get("more_body", False):
                answered.set()

    task = asyncio.create_task(app(scope, receive, send))
    try:
        await asyncio.wait_for(answered.wait(), timeout=10)
    finally:
        answered.set()
        try:
            await asyncio.wait_for(task, timeout=5)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
    response_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])]
    return httpx.Response(start.get("status", 500), headers=response_headers, content=bytes(body))


class FakeOpenAI:
    """A local OpenAI-compatible server for the real `openai` SDK: every chat completion answers
    with `answer`; each request is kept (`path`, `auth`, `body`).

        with FakeOpenAI(answer=json.dumps(...)) as fake:   # settings: openai_base_url=fake.url
            ...
    """

    def __init__(self, answer: str = "") -> None:
        self.answer = answer
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                payload = json.dumps(
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": outer.answer},
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies sent, oldest first."""
        return [request["body"] for request in self.requests]

    def __enter__(self) -> FakeOpenAI:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
