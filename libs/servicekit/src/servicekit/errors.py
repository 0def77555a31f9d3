"""RFC 9457 problem+json for every error a service returns."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """Base of every domain error: carries its HTTP status and problem fields."""

    status: int = 400
    title: str | None = None

    def __init__(self, detail: str, *, status: int | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        self.extra = extra
        self.headers: dict[str, str] = {}


class NotFound(ProblemError):
    status = 404


class Conflict(ProblemError):
    status = 409


class Unprocessable(ProblemError):
    status = 422


class PayloadTooLarge(ProblemError):
    status = 413


class UnsupportedMediaType(ProblemError):
    status = 415


class TooManyRequests(ProblemError):
    status = 429


class Unauthorized(ProblemError):
    status = 401

    def __init__(self, detail: str, *, error: str | None = "invalid_token") -> None:
        super().__init__(detail)
        # RFC 6750: a request without credentials gets no error code.
        self.headers = {"WWW-Authenticate": f'Bearer error="{error}"' if error else "Bearer"}


def brief(value: Any, limit: int = 40) -> str:
    """A client's value quoted for an error message, cut short: a 422 never echoes a huge input."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# RFC 9110's names, where Python 3.11's `HTTPStatus` still has the older ones.
_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


def status_title(status: int) -> str:
    """The problem's `title` for a status: the same wherever in the kit the answer is made."""
    return _TITLES.get(status) or HTTPStatus(status).phrase


def problem_response(
    status: int,
    detail: str | None,
    *,
    instance: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or status_title(status),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_error(err: dict[str, Any]) -> dict[str, Any]:
    if err.get("type") == "json_invalid":
        # The decoder's location is ("body", <character position>): not a field.
        position = next((p for p in err.get("loc", ()) if isinstance(p, int)), None)
        reason = (err.get("ctx") or {}).get("error") or err.get("msg", "")
        where = f" at character {position}" if position is not None else ""
        return {"field": "body", "message": f"not valid JSON{where}: {brief(str(reason), 80)}"}
    return {"field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"), "message": err.get("msg", "")}


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [_field_error(err) for err in exc.errors()]


_ALLOW_CANDIDATES = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app takes on this path. Starlette's own 405 names only the
    methods of the first route whose path matched (`Allow: POST` for a path that has GET too)."""
    allowed = []
    for method in _ALLOW_CANDIDATES:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def install_error_handlers(app: FastAPI) -> None:
    """Every 4xx/5xx leaves as problem+json, FastAPI's own validation errors included."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status, exc.detail, instance=request.url.path, title=exc.title, headers=exc.headers, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        fields = ", ".join(e["field"] for e in errors if e["field"])
        return problem_response(
            422, f"invalid request: {fields}" if fields else "invalid request", instance=request.url.path, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return problem_response(exc.status_code, str(exc.detail), instance=request.url.path, headers=headers)

    # Anything else is answered 500 by ServiceMiddleware, which adds the request id.


_GATEWAY_PROBLEMS = {
    413: "request body is too large",
    429: "too many requests from this client; slow down and retry",
}


def gateway_problem_pages() -> APIRouter:
    """Pages the gateway's `errors` middleware serves for its own 413/429 answers."""
    router = APIRouter(include_in_schema=False)

    @router.get("/problems/{status_code}")
    async def problem_page(status_code: int) -> JSONResponse:
        if status_code not in _GATEWAY_PROBLEMS:
            return problem_response(404, "no such problem page")
        headers = {"Retry-After": "1"} if status_code == 429 else None
        return problem_response(status_code, _GATEWAY_PROBLEMS[status_code], headers=headers)

    return router
