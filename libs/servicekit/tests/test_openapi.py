"""The kit's OpenAPI document: problems declared from the operation, probes hidden, docs off in production."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from servicekit.app import create_app
from servicekit.auth import CurrentPrincipal
from servicekit.errors import PROBLEM_JSON, Conflict
from servicekit.openapi import PROBLEM_REF, problem_responses
from servicekit.settings import ServiceSettings


class Thing(BaseModel):
    name: str


def _routes() -> APIRouter:
    router = APIRouter()

    @router.get("/public")
    async def public() -> dict[str, str]:
        return {}

    @router.put("/things/{thing_id}", responses=problem_responses((409, "the thing is frozen")))
    async def put_thing(thing_id: uuid.UUID, body: Thing, principal: CurrentPrincipal) -> Thing:
        raise Conflict("frozen")

    return router


def _app(**settings: Any) -> FastAPI:
    return create_app(ServiceSettings(service_name="kit", **settings), [_routes()])


def _statuses(document: dict[str, Any], path: str, method: str) -> set[str]:
    return set(document["paths"][f"/api/v1/kit{path}"][method]["responses"])


def test_problems_are_declared_from_what_the_operation_is() -> None:
    document = _app(environment="test").openapi()
    assert _statuses(document, "/public", "get") == {"200", "422", "429", "503"}
    assert _statuses(document, "/things/{thing_id}", "put") == {
        "200", "400", "401", "404", "409", "413", "415", "422", "429", "503"
    }  # fmt: skip
    responses = document["paths"]["/api/v1/kit/things/{thing_id}"]["put"]["responses"]
    assert responses["409"]["description"] == "the thing is frozen"
    for status, response in responses.items():
        if status != "200":
            assert response["content"] == {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}, status
    schemas = document["components"]["schemas"]
    assert "Problem" in schemas
    assert "HTTPValidationError" not in schemas


def test_probes_and_problem_pages_are_not_in_the_document() -> None:
    paths = _app(environment="test").openapi()["paths"]
    assert not [p for p in paths if not p.startswith("/api/v1/kit/")]


@pytest.mark.parametrize(
    ("settings", "served"),
    [
        ({"environment": "development"}, True),
        ({"environment": "test"}, True),
        ({"environment": "test", "api_docs_enabled": False}, False),
        ({"environment": "production", "jwt_algorithm": "RS256", "jwks_url": "https://idp.test/jwks"}, False),
        (
            {
                "environment": "production",
                "jwt_algorithm": "RS256",
                "jwks_url": "https://idp.test/jwks",
                "api_docs_enabled": True,
            },
            True,
        ),
    ],
)
def test_documents_and_swagger_ui_are_served_only_when_enabled(settings: dict[str, Any], served: bool) -> None:
    app = _app(**settings)
    assert (app.openapi_url is not None, app.docs_url is not None) == (served, served)
    routed = {getattr(route, "path", None) for route in app.routes}
    assert ("/api/v1/kit/openapi.json" in routed) is served
    assert ("/api/v1/kit/docs" in routed) is served
