"""The web app: pages, the live relay, static files, and the errors every page shares."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from journey_web import live
from journey_web.deps import CsrfFailed, SignInRequired, redirect, render, sign_in_url, too_large_message
from journey_web.middleware import BodyTooLarge, SessionAndHeaders, session_of
from journey_web.oidc import OidcClient
from journey_web.pages import auth, home, missions, plan, profiler, today
from journey_web.problems import ApiProblem
from journey_web.settings import WebSettings
from servicekit.logging import get_logger

log = get_logger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(settings: WebSettings, *, oidc_transport: Any = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.api_timeout_seconds)
        async with (
            httpx.AsyncClient(base_url=settings.gateway_url, timeout=timeout) as http,
            # The relay's upstream stays open as long as the browser watches: no read timeout.
            httpx.AsyncClient(base_url=settings.gateway_url, timeout=httpx.Timeout(10, read=None)) as stream_http,
        ):
            app.state.http, app.state.stream_http = http, stream_http
            yield

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.oidc = OidcClient(settings, oidc_transport)
    app.state.draining = asyncio.Event()
    app.add_middleware(SessionAndHeaders, settings=settings)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, home, profiler, today, missions, plan, live):
        app.include_router(module.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return redirect(sign_in_url(exc.next_path))

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        message = "This form is out of date (or came from another site). Go back, reload the page and try again."
        return render(request, "error.html", status_code=403, message=message)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> Response:
        return render(request, "error.html", status_code=413, message=too_large_message(settings))

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> Response:
        """What a page did not handle itself: 401 signs out, 402 offers the upgrade."""
        if exc.status == 401:
            session = session_of(request.scope)
            session.sign_out()
            session.say("Your session ended. Sign in again to carry on.")
            return redirect(sign_in_url(request.url.path if request.method == "GET" else "/"))
        if exc.needs_upgrade:
            return render(request, "needs_plus.html", status_code=402, problem=exc.problem)
        if exc.status >= 500:
            log.warning("api_error", status=exc.status, path=request.url.path)
        status = exc.status if exc.status in (404, 409, 410, 422, 429) else 502
        return render(request, "error.html", status_code=status, message=exc.in_words())

    @app.exception_handler(httpx.HTTPError)
    async def _unreachable(request: Request, exc: httpx.HTTPError) -> Response:
        log.warning("api_unreachable", error=type(exc).__name__)
        message = "Journey's services did not answer. Try again in a moment."
        return render(request, "error.html", status_code=503, message=message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return render(request, "error.html", status_code=exc.status_code, message=message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return render(request, "error.html", status_code=422, message="That address or form was not valid.")

    return app
