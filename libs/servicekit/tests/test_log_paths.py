"""Ids in a path stay out of the services' logs: the local payment provider's pages are
capability URLs (the id is the credential), and a 500 or an outage 503 on one of them wrote
the whole path into the log. Logged now: the path with each parameter's value replaced by its
name; the request id still leads to the request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import APIRouter
from pydantic import SecretStr

from servicekit import middleware, outage
from servicekit.app import create_app
from servicekit.logging import loggable_path
from servicekit.settings import ServiceSettings
from servicekit.testing import app_client

router = APIRouter()


@router.get("/local/checkout/{user_id}/{checkout_id}")
async def crashes(user_id: uuid.UUID, checkout_id: uuid.UUID) -> None:
    raise RuntimeError("a bug")


@router.post("/local/checkout/{user_id}/{checkout_id}/confirm")
async def database_down(user_id: uuid.UUID, checkout_id: uuid.UUID) -> None:
    raise psycopg.OperationalError("connection refused")


class Recorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def _record(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))

    exception = error = warning = info = debug = _record


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(service_name="caps", environment="test", jwt_secret=SecretStr("s" * 40))
    async with app_client(create_app(settings, [router])) as c:
        yield c


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(middleware, "log", recorder)
    monkeypatch.setattr(outage, "log", recorder)
    return recorder


@pytest.mark.parametrize(("method", "suffix", "status"), [("GET", "", 500), ("POST", "/confirm", 503)])
async def test_a_failing_capability_page_logs_no_id(
    method: str, suffix: str, status: int, client: httpx.AsyncClient, logged: Recorder
) -> None:
    user_id, secret = uuid.uuid4(), uuid.uuid4()
    response = await client.request(method, f"/api/v1/caps/local/checkout/{user_id}/{secret}{suffix}")
    assert response.status_code == status
    assert logged.lines, "the failure was not logged at all"
    for event, fields in logged.lines:
        assert str(secret) not in repr(fields), (event, fields)
        assert str(user_id) not in repr(fields), (event, fields)
    paths = {fields["path"] for _, fields in logged.lines if "path" in fields}
    assert paths == {f"/api/v1/caps/local/checkout/{{user_id}}/{{checkout_id}}{suffix}"}


def test_a_path_without_parameters_is_logged_as_it_came() -> None:
    assert loggable_path({"path": "/api/v1/caps/plans"}) == "/api/v1/caps/plans"
    assert loggable_path({"path": "/a/7/b/7", "path_params": {"n": "7"}}) == "/a/{n}/b/{n}"
