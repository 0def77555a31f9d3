from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import psycopg
import pytest
import stripe
from pydantic import SecretStr

from billing import SCHEMA
from billing.main import app as build_app
from billing.main import service as billing_service
from billing.settings import BillingSettings
from billing.worker import subscriptions
from servicekit.testing import Users, app_client, running_worker
from servicekit.worker import Worker

WEBHOOK_SECRET = "whsec_test_secret"
PRICE = {"plus_monthly": "price_test_plus_m", "plus_yearly": "price_test_plus_y", "pro_monthly": "price_test_pro_m"}


def _nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (a[b][0][c]=v) back into a dict, enough for these tests."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


class FakeStripe:
    """A local Stripe API: the real `stripe` SDK talks HTTP to it."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, dict[str, Any]] = {}
        self.block_retrieve = threading.Event()
        self.block_retrieve.set()
        # Called with (method, path) as each request arrives, before it is answered: tests look
        # at the database meanwhile, or hold the request.
        self.before: Callable[[str, str], None] | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: dict[str, Any], *, replayed: bool = False) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if replayed:
                    self.send_header("Idempotent-Replayed", "true")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _arrived(self, method: str) -> None:
                if outer.before is not None:
                    outer.before(method, self.path.partition("?")[0])

            def do_GET(self) -> None:
                self._arrived("GET")
                path, _, query = self.path.partition("?")
                outer.requests.append({"method": "GET", "path": path, "params": dict(parse_qsl(query))})
                if path == "/v1/checkout/sessions":
                    self._reply(200, outer.list_sessions(dict(parse_qsl(query))))
                    return
                kind, _, ident = path.removeprefix("/v1/").partition("/")
                outer.block_retrieve.wait(30)
                store = {"subscriptions": outer.subscriptions, "customers": outer.customers}.get(kind, {})
                if ident in store:
                    self._reply(200, store[ident])
                else:
                    self._reply(
                        404, {"error": {"type": "invalid_request_error", "message": f"No such {kind}: {ident}"}}
                    )

            def do_POST(self) -> None:
                self._arrived("POST")
                length = int(self.headers.get("Content-Length") or 0)
                params = _nested(parse_qsl(self.rfile.read(length).decode()))
                key = self.headers.get("Idempotency-Key")
                outer.requests.append({"method": "POST", "path": self.path, "params": params, "idempotency_key": key})
                if key and key in outer.idempotent:
                    self._reply(200, outer.idempotent[key], replayed=True)
                    return
                body = outer.create(self.path, params)
                if body is None:
                    self._reply(404, {"error": {"type": "invalid_request_error", "message": "unknown path"}})
                    return
                if key:
                    outer.idempotent[key] = body
                self._reply(200, body)

            def do_DELETE(self) -> None:
                self._arrived("DELETE")
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                params = {**dict(parse_qsl(query)), **dict(parse_qsl(self.rfile.read(length).decode()))}
                outer.requests.append({"method": "DELETE", "path": path, "params": params})
                sub = outer.subscriptions.get(path.removeprefix("/v1/subscriptions/"))
                if sub is None or sub["status"] == "canceled":
                    self._reply(400, {"error": {"type": "invalid_request_error", "message": "no live subscription"}})
                    return
                sub.update(status="canceled", canceled_at=int(time.time()), ended_at=int(time.time()))
                self._reply(200, sub)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def create(self, path: str, params: dict[str, Any]) -> dict[str, Any] | None:
        n = uuid.uuid4().hex[:12]
        if path == "/v1/customers":
            customer = {"id": f"cus_{n}", "object": "customer", "metadata": params.get("metadata", {})}
            self.customers[customer["id"]] = customer
            return customer
        if path == "/v1/checkout/sessions":
            session: dict[str, Any] = {
                "id": f"cs_test_{n}",
                "object": "checkout.session",
                "url": f"https://checkout.stripe.test/c/pay/cs_test_{n}",
                "mode": params.get("mode"),
                "customer": params.get("customer"),
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "status": "open",
                "created": int(time.time()),
            }
            self.sessions[session["id"]] = session
            return dict(session)
        if path.startswith("/v1/checkout/sessions/") and path.endswith("/expire"):
            expiring = self.sessions.get(path.split("/")[4])
            if expiring is None or expiring["status"] != "open":
                return None
            expiring["status"] = "expired"
            return dict(expiring)
        if path == "/v1/billing_portal/sessions":
            return {"id": f"bps_{n}", "object": "billing_portal.session", "url": f"https://billing.stripe.test/p/{n}"}
        if path.startswith("/v1/subscriptions/"):
            sub = self.subscriptions.get(path.removeprefix("/v1/subscriptions/"))
            if sub is None:
                return None
            sub["cancel_at_period_end"] = params.get("cancel_at_period_end") == "true"
            return sub
        return None

    def list_sessions(self, query: dict[str, str]) -> dict[str, Any]:
        found = [
            dict(s)
            for s in self.sessions.values()
            if all(s.get(k) == query[k] for k in ("customer", "status") if k in query)
        ]
        return {"object": "list", "url": "/v1/checkout/sessions", "has_more": False, "data": found}

    def posts(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"] == path]


@pytest.fixture(scope="session")
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    yield fake
    fake.server.shutdown()


@pytest.fixture(scope="session")
def billing_settings(infra: Any, fake_stripe: FakeStripe) -> BillingSettings:
    settings = BillingSettings(
        environment="test",
        database_url=infra.dsn("billing_app"),
        worker_database_url=infra.dsn("billing_worker"),
        system_database_url=infra.dsn("billing_system"),
        nats_url=infra.nats_url,
        consumer_watchdog_seconds=2.0,
        stripe_secret_key=SecretStr("sk_test_journey"),
        stripe_api_base=fake_stripe.url,
        stripe_webhook_secret=SecretStr(WEBHOOK_SECRET),
        stripe_price_plus_monthly=PRICE["plus_monthly"],
        stripe_price_plus_yearly=PRICE["plus_yearly"],
        stripe_price_pro_monthly=PRICE["pro_monthly"],
        past_due_grace_seconds=3 * 24 * 3600,
        stripe_apply_ack_wait_seconds=2.0,
    )
    billing_service.run_seed(infra.admin_dsn, settings)  # this environment's price ids
    return settings


@pytest.fixture(scope="session")
async def billing_client(billing_settings: BillingSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(build_app(billing_settings)) as client:
        yield client


@pytest.fixture(scope="session")
async def billing_worker(billing_settings: BillingSettings) -> AsyncIterator[Worker]:
    async with running_worker(billing_settings, SCHEMA, subscriptions(billing_settings)) as worker:
        yield worker


@pytest.fixture(scope="session")
def local_settings(billing_settings: BillingSettings) -> BillingSettings:
    """The same database and secrets with the local payment provider (`make run` without keys)."""
    return billing_settings.model_copy(update={"stripe_secret_key": None, "stripe_api_base": None})


@pytest.fixture(scope="session")
async def local_client(local_settings: BillingSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(build_app(local_settings)) as client:
        yield client


@pytest.fixture
async def local_worker(billing_worker: Worker, local_settings: BillingSettings) -> AsyncIterator[Worker]:
    """The billing worker with the local provider. The Stripe one shares the durable consumer,
    so it is stopped meanwhile: only one provider applies the queued events."""
    await billing_worker.stop()
    try:
        async with running_worker(local_settings, SCHEMA, subscriptions(local_settings)) as worker:
            yield worker
    finally:
        await billing_worker.start()


@pytest.fixture(scope="session")
def users(billing_settings: BillingSettings) -> Users:
    return Users(billing_settings)


class Stripe:
    """Builds Stripe-shaped objects and signed webhook deliveries."""

    def __init__(self, client: httpx.AsyncClient, fake: FakeStripe, admin_dsn: str) -> None:
        self.client = client
        self.fake = fake
        self.admin_dsn = admin_dsn

    def subscription(
        self,
        user_id: uuid.UUID,
        *,
        price: str = PRICE["plus_monthly"],
        status: str = "active",
        period_end: int | None = None,
        cancel_at_period_end: bool = False,
        sub_id: str | None = None,
        created: int | None = None,
    ) -> dict[str, Any]:
        period_end = period_end or int(time.time()) + 30 * 86400
        sub = {
            "id": sub_id or f"sub_{uuid.uuid4().hex[:14]}",
            "object": "subscription",
            "created": created or int(time.time()),
            "customer": f"cus_{uuid.uuid4().hex[:10]}",
            "status": status,
            "cancel_at_period_end": cancel_at_period_end,
            "canceled_at": None,
            "trial_end": None,
            "metadata": {"user_id": str(user_id)},
            "items": {"object": "list", "data": [{"price": {"id": price}, "current_period_end": period_end}]},
        }
        return sub

    def checkout_session(self, user_id: uuid.UUID, subscription: dict[str, Any]) -> dict[str, Any]:
        """What Stripe sends in checkout.session.completed for `subscription`."""
        return {
            "id": f"cs_{uuid.uuid4().hex[:12]}",
            "object": "checkout.session",
            "client_reference_id": str(user_id),
            "customer": subscription["customer"],
            "subscription": subscription["id"],
        }

    def event(self, kind: str, obj: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
        return {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": kind,
            "created": created or int(time.time()),
            "livemode": False,
            "api_version": "2025-10-29.clover",
            "data": {"object": obj},
        }

    def sign(self, payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
        return str(stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp or int(time.time())))

    async def deliver(self, event: dict[str, Any], **sign: Any) -> httpx.Response:
        payload = json.dumps(event)
        return await self.client.post(
            "/api/v1/billing/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": self.sign(payload, **sign), "Content-Type": "application/json"},
        )

    def row(self, query: str, *params: Any) -> tuple[Any, ...] | None:
        with psycopg.connect(self.admin_dsn) as conn:
            return conn.execute(query, params).fetchone()

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.admin_dsn) as conn:
            return conn.execute(query, params).fetchall()

    def tier_events(self, user_id: uuid.UUID) -> list[dict[str, Any]]:
        return [
            r[0]
            for r in self.rows(
                "SELECT payload->'data' FROM billing.outbox WHERE subject = 'journey.billing.tier.changed' "
                "AND payload->>'subject' = %s ORDER BY created_at",
                str(user_id),
            )
        ]

    def tier(self, user_id: uuid.UUID) -> str | None:
        row = self.row("SELECT tier FROM billing.user_tiers WHERE user_id = %s", user_id)
        return row[0] if row else None

    def events_of(self, user_id: uuid.UUID) -> list[tuple[str, str, bool, str | None]]:
        """(id, type, processed, error) of the stored events naming `user_id`, oldest first."""
        return [
            (r[0], r[1], r[2], r[3])
            for r in self.rows(
                "SELECT id, type, processed_at IS NOT NULL, error FROM billing.stripe_events "
                "WHERE payload->'data'->'object'->'metadata'->>'user_id' = %s ORDER BY received_at, id",
                str(user_id),
            )
        ]

    def processed(self, event_id: str) -> bool:
        row = self.row("SELECT processed_at IS NOT NULL FROM billing.stripe_events WHERE id = %s", event_id)
        return bool(row and row[0])


@pytest.fixture(scope="session")
def stripe_kit(billing_client: httpx.AsyncClient, fake_stripe: FakeStripe, infra: Any) -> Stripe:
    return Stripe(billing_client, fake_stripe, infra.admin_dsn)


@pytest.fixture(scope="session")
def wait_processed(stripe_kit: Stripe) -> Callable[[str], Any]:
    from servicekit.testing import eventually

    async def _wait(event_id: str) -> None:
        async def done() -> bool:
            return stripe_kit.processed(event_id)

        await eventually(done)

    return _wait
