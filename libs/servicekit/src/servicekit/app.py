"""The app factory behind `ServiceDefinition.app()`."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import compile_path

from servicekit.auth import TokenVerifier
from servicekit.db import create_engine
from servicekit.direct import DirectPool
from servicekit.errors import gateway_problem_pages, install_error_handlers
from servicekit.health import router as health_router
from servicekit.http_metrics import HttpMetrics
from servicekit.logging import configure_logging
from servicekit.middleware import ServiceMiddleware, UnstorableInputGuard
from servicekit.openapi import problem_openapi
from servicekit.outage import install_outage_handlers
from servicekit.settings import ServiceSettings
from servicekit.startup import freeze_startup_objects


def create_app(
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    *,
    version: str = "0.1.0",
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """Assemble a service: logging, engine, auth, problem+json errors, health, OpenAPI.
    `lifespan` runs inside the kit's own (the engine is open) for the service's per-process
    resources.

    The OpenAPI document and Swagger UI are served only when settings allow (not in production
    unless API_DOCS_ENABLED); the document declares every problem response (servicekit.openapi)."""
    configure_logging(settings.service_name, settings.log_level)
    prefix = f"/api/v1/{settings.service_name}"

    @asynccontextmanager
    async def kit_lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
        app.state.direct_pool = DirectPool(settings.database_url, size=2 * settings.db_pool_size)
        await app.state.direct_pool.open()
        try:
            if lifespan is None:
                freeze_startup_objects()
                yield
            else:
                async with lifespan(app):
                    freeze_startup_objects()
                    yield
        finally:
            await app.state.direct_pool.close()
            await app.state.engine.dispose()

    app = FastAPI(
        title=f"Journey {settings.service_name}",
        version=version,
        lifespan=kit_lifespan,
        openapi_url=f"{prefix}/openapi.json" if settings.serves_api_docs else None,
        docs_url=f"{prefix}/docs" if settings.serves_api_docs else None,
        redoc_url=None,
    )
    app.state.settings = settings
    # Set when the server starts shutting down (servicekit.service.serve): long-lived answers
    # (Server-Sent Events) watch it to end cleanly instead of being cut.
    app.state.draining = asyncio.Event()
    app.state.token_verifier = TokenVerifier(settings)
    app.openapi = problem_openapi(app)  # type: ignore[method-assign]
    install_error_handlers(app)
    install_outage_handlers(app)
    # Probes are for the platform on the service port; the gateway does not route them.
    app.include_router(health_router, include_in_schema=False)
    app.include_router(gateway_problem_pages())
    for router in routers:
        # The framework's own cap, per route: an upload route sets a larger `max_body_size`.
        app.include_router(router, prefix=prefix, max_body_size=settings.max_body_bytes)
    # Bodies the framework parses for a route are guarded; a route that reads its exact bytes
    # (a signed webhook) judges them itself.
    guard = UnstorableInputGuard(_parsed_body_routes(app), max_bytes=settings.max_body_bytes)
    metrics = HttpMetrics(service=settings.service_name, routes_of=app)
    app.add_middleware(ServiceMiddleware, guard=guard, metrics=metrics)
    return app


def _parsed_body_routes(app: FastAPI) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """Full path pattern and methods of every route whose body the framework parses."""
    routes = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.body_field is not None and context.path:
            routes.append((compile_path(context.path)[0], frozenset(context.methods or route.methods or ())))
    return routes
