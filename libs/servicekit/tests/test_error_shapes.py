"""Error answers that must tell the truth: the methods a 405 allows, the field of a body that is
not JSON, and the 400 of a cursor this list never gave out being declared. Each was found by
`make fuzz` or by hand through the gateway against services built on the kit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends
from pydantic import BaseModel, SecretStr

from servicekit.app import create_app
from servicekit.pagination import PageParams, page_params
from servicekit.settings import ServiceSettings
from servicekit.testing import app_client

P = "/api/v1/shapes"
items = APIRouter()
profile = APIRouter()


class Item(BaseModel):
    name: str


@items.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item


@items.get("/items")
async def list_items(page: Annotated[PageParams, Depends(page_params)]) -> list[Item]:
    return []


@profile.get("/profile")
async def read_profile() -> dict[str, str]:
    return {}


@profile.put("/profile")
async def write_profile(item: Item) -> Item:
    return item


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(service_name="shapes", environment="test", jwt_secret=SecretStr("s" * 40))
    async with app_client(create_app(settings, [items, profile])) as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/items", {"GET", "POST"}),
        ("OPTIONS", "/items", {"GET", "POST"}),
        ("DELETE", "/profile", {"GET", "PUT"}),
        ("POST", "/profile", {"GET", "PUT"}),
    ],
)
async def test_a_405_allows_every_method_of_the_path(
    method: str, path: str, allowed: set[str], client: httpx.AsyncClient
) -> None:
    """Starlette answers from the first route whose path matched, so `Allow` named only that
    route's methods (`Allow: POST` for a path that also has GET)."""
    response = await client.request(method, f"{P}{path}")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


async def test_a_body_that_is_not_json_names_the_body(client: httpx.AsyncClient) -> None:
    """The decoder's error location is ("body", <character position>): it was reported as a
    field named "11"."""
    response = await client.post(
        f"{P}/items", content=b'{"name": "a\x01b"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == ["body"]
    assert "character 11" in problem["errors"][0]["message"]
    assert problem["detail"] == "invalid request: body"


async def test_a_cursor_this_list_never_gave_out_is_a_declared_400(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{P}/items", params={"cursor": "0" * 200})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    document = (await client.get(f"{P}/openapi.json")).json()
    declared = document["paths"][f"{P}/items"]["get"]["responses"]
    assert "400" in declared
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    assert declared["400"]["content"] == {"application/problem+json": problem}
    assert "400" not in document["paths"][f"{P}/profile"]["get"]["responses"]
