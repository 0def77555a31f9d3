"""Request count and latency by route template, recorded by the kit's outermost middleware
(`servicekit.middleware.ServiceMiddleware`), so the answers it gives itself (413, 422, 500) count too.

The route is read after the app answered, from the route object the router put in the scope,
mapped once to its full template (`/api/v1/profiler/sessions/{session_id}`): never the raw
path, whose ids would make a series per user. A request no route matched counts as `unmatched`."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.types import Scope

from servicekit.metrics import HTTP_DURATION, HTTP_REQUESTS

UNMATCHED = "unmatched"
# Any other method a client makes up is one series, not one each.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics:
    """What `servicekit.middleware.ServiceMiddleware` records once a request has been answered."""

    def __init__(self, *, service: str, routes_of: FastAPI) -> None:
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

    def record(self, scope: Scope, status: int, started: float) -> None:
        """One answer with `status` (500 for an exception that escaped every handler), begun at
        `started` (`time.perf_counter()`)."""
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
