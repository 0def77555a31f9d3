"""Validly signed webhooks with bodies PostgreSQL or the SDK cannot take, and signatures from
the future: each is a 400 problem+json with nothing stored, never a 500."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from servicekit.testing import Users

B = "/api/v1/billing"


async def _post(stripe_kit: Any, client: httpx.AsyncClient, payload: str, **sign: Any) -> httpx.Response:
    headers = {"Content-Type": "application/json", "Stripe-Signature": stripe_kit.sign(payload, **sign)}
    return await client.post(f"{B}/webhooks/stripe", content=payload, headers=headers)


def _assert_refused(response: httpx.Response, stripe_kit: Any, event_id: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert stripe_kit.row("SELECT count(*) FROM billing.stripe_events WHERE id = %s", event_id) == (0,)


@pytest.mark.parametrize("offset", [301, 1_000_000])
async def test_a_signature_from_the_future_is_refused(
    offset: int, stripe_kit: Any, users: Users, billing_client: httpx.AsyncClient
) -> None:
    event = stripe_kit.event("customer.subscription.created", stripe_kit.subscription(users.id(users.new())))
    response = await _post(stripe_kit, billing_client, json.dumps(event), timestamp=int(time.time()) + offset)
    _assert_refused(response, stripe_kit, event["id"])


async def test_a_signature_just_inside_the_tolerance_is_accepted(
    stripe_kit: Any, users: Users, billing_client: httpx.AsyncClient
) -> None:
    event = stripe_kit.event("invoice.created", {"id": "in_x", "object": "invoice"})
    response = await _post(stripe_kit, billing_client, json.dumps(event), timestamp=int(time.time()) + 250)
    assert response.status_code == 200, response.text


def _deep(levels: int) -> Any:
    value: Any = {}
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "shape", ["array", "string", "deep 65", "deep 900", "deep 100000", "nan", "huge created", "not utf-8"]
)
async def test_bodies_that_are_not_a_plain_event_are_refused(
    shape: str, stripe_kit: Any, users: Users, billing_client: httpx.AsyncClient
) -> None:
    event = stripe_kit.event("customer.subscription.created", stripe_kit.subscription(users.id(users.new())))
    if shape == "array":
        payload = json.dumps([event])
    elif shape == "string":
        payload = json.dumps("evt")
    elif shape.startswith("deep"):
        levels = int(shape.split()[1])
        if levels > 10_000:  # too deep for json.dumps itself: written by hand
            payload = json.dumps(event)[:-1] + ', "x": ' + "[" * levels + "]" * levels + "}"
        else:
            event["data"]["object"]["metadata"]["deep"] = _deep(levels)
            payload = json.dumps(event)
    elif shape == "nan":
        event["data"]["object"]["quantity"] = float("nan")
        payload = json.dumps(event)
    elif shape == "huge created":
        event["created"] = 10**30
        payload = json.dumps(event)
    else:  # the SDK signs text: invalid UTF-8 must still be a 400, not a decode error
        response = await billing_client.post(
            f"{B}/webhooks/stripe",
            content=json.dumps(event).encode().replace(b'"object"', b'"obj\xffct"', 1),
            headers={"Content-Type": "application/json", "Stripe-Signature": stripe_kit.sign("x")},
        )
        _assert_refused(response, stripe_kit, event["id"])
        return
    _assert_refused(await _post(stripe_kit, billing_client, payload), stripe_kit, event["id"])


@pytest.mark.parametrize(
    ("where", "bad"),
    [("id", "\x00"), ("type", "\x00"), ("object", "\x00"), ("id", "\ud800"), ("type", "\udfff"), ("object", "\ud83d")],
)
async def test_unstorable_strings_anywhere_are_refused(
    where: str, bad: str, stripe_kit: Any, users: Users, billing_client: httpx.AsyncClient
) -> None:
    event = stripe_kit.event("customer.subscription.created", stripe_kit.subscription(users.id(users.new())))
    clean_id = event["id"]
    if where == "id":
        event["id"] = f"{clean_id}{bad}"
    elif where == "type":
        event["type"] = f"customer.subscription.created{bad}"
    else:
        event["data"]["object"]["metadata"][f"note{bad}"] = f"x{bad}y"
    response = await _post(stripe_kit, billing_client, json.dumps(event))  # \u escapes: valid JSON text
    _assert_refused(response, stripe_kit, clean_id)
    assert stripe_kit.row("SELECT count(*) FROM billing.stripe_events WHERE id LIKE %s", f"{clean_id}%") == (0,)


async def test_the_local_router_itself_never_answers_500_on_a_nul(billing_settings: Any) -> None:
    """The local pages on a bare app, without the kit's request guards: a NUL or a lone
    surrogate in a path id is refused by the router's own parameter types (4xx), before any query."""
    from fastapi import FastAPI

    from billing.payments.local_provider import LocalProvider
    from billing.payments.local_router import router
    from servicekit.db import create_engine
    from servicekit.errors import install_error_handlers

    local = billing_settings.model_copy(update={"stripe_secret_key": None})
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router, prefix=B)
    app.state.settings = local
    app.state.engine = create_engine(local.database_url, pool_size=1)
    app.state.payment_provider = LocalProvider(local, app.state.engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for path in (
                f"{B}/local/portal/{uuid.uuid4()}/cus%00x",
                f"{B}/local/portal/{uuid.uuid4()}/cus%00x/cancel",
                f"{B}/local/checkout/{uuid.uuid4()}/ab%00cd",
                f"{B}/local/portal/{uuid.uuid4()}/%ED%A0%80",
            ):
                get = await client.get(path)
                post = await client.post(path if path.endswith("cancel") else f"{path}/confirm")
                for response in (get, post):
                    assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
                    assert response.headers["content-type"] == "application/problem+json"
    finally:
        await app.state.engine.dispose()


def _random_text(length: int) -> str:
    """Incompressible text: PostgreSQL cannot shrink it below a btree entry's limit."""
    import secrets

    return secrets.token_hex(length // 2 + 1)[:length]


@pytest.mark.parametrize(
    "shape",
    ["id of 3,000 characters", "type of 3,000 characters", "metadata a list", "metadata a string", "metadata a number"],
)
async def test_shapes_stripe_never_sends_are_a_400_not_a_500(
    shape: str, stripe_kit: Any, users: Users, billing_client: httpx.AsyncClient
) -> None:
    """Found through the gateway: each of these, validly signed, was a 500 (a btree entry over
    PostgreSQL's 2,704-byte limit for the event id; `'list' object has no attribute 'get'` on
    the metadata)."""
    event = stripe_kit.event("customer.subscription.created", stripe_kit.subscription(users.id(users.new())))
    clean_id = event["id"]
    if shape.startswith("id"):
        event["id"] = f"{clean_id}_{_random_text(3000)}"
    elif shape.startswith("type"):
        event["type"] = f"customer.subscription.{_random_text(3000)}"
    else:
        event["data"]["object"]["metadata"] = {"list": [1, 2], "string": "user", "number": 7}[shape.split()[-1]]
    response = await _post(stripe_kit, billing_client, json.dumps(event))
    _assert_refused(response, stripe_kit, event["id"])
    assert stripe_kit.row("SELECT count(*) FROM billing.stripe_events WHERE id LIKE %s", f"{clean_id}%") == (0,)


async def test_a_future_timestamp_cannot_hide_behind_a_second_t(
    stripe_kit: Any, users: Users, billing_client: httpx.AsyncClient
) -> None:
    """The SDK verifies against the first item named exactly `t`; the future check must judge
    that same timestamp, not the first one that only looks like `t` once its spaces are gone."""
    event = stripe_kit.event("customer.subscription.created", stripe_kit.subscription(users.id(users.new())))
    payload = json.dumps(event)
    now, future = int(time.time()), int(time.time()) + 1_000_000
    signed = stripe_kit.sign(payload, timestamp=future)  # "t=<future>,v1=<signature>"
    header = f"v1=00, t={now},{signed}"
    headers = {"Content-Type": "application/json", "Stripe-Signature": header}
    response = await billing_client.post(f"{B}/webhooks/stripe", content=payload, headers=headers)
    _assert_refused(response, stripe_kit, event["id"])
