"""The OpenAPI document tells the truth about errors: every problem a route can answer is
declared, as `application/problem+json` with the one `Problem` schema.

The kit declares what the kit itself answers, read from the operation: 401 where it needs a
token, 404 where it has path parameters, 400 where it takes a page cursor, 400/413/415 where it
takes a body, and everywhere 422, the gateway's 429 and the outage 503. A service declares what
only its code raises (402, 409, a provider's 503, a 404 without path parameters) with
`problem_responses(...)` on the route."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from servicekit.errors import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class FieldError(BaseModel):
    model_config = ConfigDict(extra="allow")

    field: str = Field(description="where: `value`, `path.session_id`, `header.Idempotency-Key`, …")
    message: str = ""


class Problem(BaseModel):
    """RFC 9457 problem details, as `servicekit.errors.problem_response` builds them."""

    # 402 adds quota members, /readyz adds `checks`: extension members are allowed.
    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field("about:blank", description="always about:blank")
    title: str = Field(description="the HTTP reason phrase")
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    instance: str | None = Field(None, description="the request path")
    errors: list[FieldError] | None = None


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }


def problem_responses(*statuses: int | tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: `problem_responses(402, (409, "the session is already completed"))`."""
    out: dict[int | str, dict[str, Any]] = {}
    for item in statuses:
        status, description = item if isinstance(item, tuple) else (item, None)
        out[status] = _problem_response(status, description)
    return out


def kit_statuses(operation: dict[str, Any]) -> dict[int, str]:
    """What the kit (auth, validation, body cap, gateway) can answer for this operation."""
    statuses = {
        422: "invalid request: path, query, header or body fails validation",
        429: "rate limited by the gateway (Retry-After: 1)",
        503: "the database or the broker is unreachable (Retry-After); see servicekit.outage",
    }
    if operation.get("security"):
        statuses[401] = "missing or invalid bearer token"
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        statuses[404] = "no such object for this user (another user's object is a 404 too)"
    if any(p.get("in") == "query" and p.get("name") == "cursor" for p in operation.get("parameters", [])):
        # servicekit.pagination: a cursor the list did not give out.
        statuses[400] = "the cursor is not one this list gave out"
    if "requestBody" in operation:
        statuses[400] = "the body could not be parsed"
        statuses[413] = "the body is over the size cap"
        statuses[415] = "the body is not in a declared content type"
    return statuses


def declare_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Add the kit's problem responses to every operation; every 4xx/5xx becomes problem+json."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for path_item in document.get("paths", {}).values():
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in kit_statuses(operation).items():
                responses.setdefault(str(status), _problem_response(status, description))
            for status, response in responses.items():
                if status[0] in "45":  # FastAPI's own 422 says application/json and HTTPValidationError
                    response["content"] = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
    # Nothing refers to FastAPI's validation error shapes any more: the service never sends them.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return document


def problem_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`app.openapi` that builds the document once, with every problem declared."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = declare_problems(document)
        return app.openapi_schema

    return openapi


# A path parameter's schema extension: the id names a shared reference entry (a catalogue item,
# a question), the same for every user, so asking for it as another user is no disclosure.
SHARED_ID = "x-journey-shared-id"
