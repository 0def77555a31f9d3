"""Request count and latency by route template: a pure ASGI middleware, outermost, so it also
counts the answers other middleware give (413, 422, 500).

The route is read after the app answered, from the route object the router put in the scope,
mapped once to its full template (`/api/v1/profiler/sessions/{session_id}`): never the raw
path, whose ids would make a series per user. A request no route matched counts as `unmatched`."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.metrics import HTTP_DURATION, HTTP_REQUESTS

UNMATCHED = "unmatched"
# Any other method a client makes up is one series, not one each.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp, *, service: str, routes_of: FastAPI) -> None:
        self.app = app
        self.service = service
        self.routes_of = routes_of
        self._templates: dict[int, str] | None = None
        # Children per (route, method, status): the label lookup is done once per series.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _template(self, scope: Scope) -> str:
        if self._templates is None:  # the routes are complete by the first request
            self._templates = {
                id(context.original_route): context.path
                for context in iter_route_contexts(self.routes_of.routes)
                if context.path
            }
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        return self._templates.get(id(route)) or getattr(route, "path", None) or UNMATCHED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception that escapes every handler is a 500 for the client

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            key = (self._template(scope), method, status)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = (
                    HTTP_REQUESTS.labels(self.service, key[0], key[1], str(status)),
                    HTTP_DURATION.labels(self.service, key[0], key[1]),
                )
            series[0].inc()
            series[1].observe(time.perf_counter() - started)
