"""Dependency outages: which errors mean "the database or the broker is unreachable", and
how the API answers them (503 problem+json with Retry-After, logged as an outage, not a crash).

Consumers use the same test to tell an outage, which must not use up an event's deliveries,
from a handler's own error, which does."""

from __future__ import annotations

import inspect

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from nats import errors as nats_errors
from nats.js import errors as js_errors
from sqlalchemy import exc as sa_exc

from servicekit.errors import problem_response
from servicekit.logging import get_logger, loggable_path

log = get_logger(__name__)

RETRY_AFTER_SECONDS = 5

# SQLSTATE classes that mean the server or the connection went away, not that a statement
# was wrong: 08 connection exception, 57P operator intervention (shutdown, crash, starting
# up), 53300 too many connections. Deadlocks and timeouts are OperationalErrors too, but a
# handler that keeps hitting them has a bug of its own and must be able to dead-letter.
_OUTAGE_SQLSTATE_PREFIXES = ("08", "57P", "53300")

NATS_OUTAGES: tuple[type[Exception], ...] = (
    nats_errors.ConnectionClosedError,
    nats_errors.ConnectionReconnectingError,
    nats_errors.NoServersError,
    nats_errors.StaleConnectionError,
    nats_errors.OutboundBufferLimitError,
    nats_errors.NoRespondersError,
    nats_errors.TimeoutError,
    js_errors.NoStreamResponseError,  # JetStream not answering (restarting)
    js_errors.ServiceUnavailableError,
)


def _psycopg_outage(exc: psycopg.Error) -> bool:
    if not isinstance(exc, psycopg.OperationalError):
        return False
    # No SQLSTATE: the client lost or never got the connection (refused, reset, closed).
    return exc.sqlstate is None or exc.sqlstate.startswith(_OUTAGE_SQLSTATE_PREFIXES)


def _single_outage(exc: BaseException) -> str | None:
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return "database"
        return "database" if isinstance(exc.orig, psycopg.Error) and _psycopg_outage(exc.orig) else None
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return "database"
    if isinstance(exc, psycopg.Error):
        return "database" if _psycopg_outage(exc) else None
    if isinstance(exc, NATS_OUTAGES):
        return "broker"
    if isinstance(exc, ConnectionError):
        return "network"
    return None


def outage_kind(exc: BaseException) -> str | None:
    """`"database"`, `"broker"` or `"network"` when `exc` (or what caused it) means a dependency
    is unreachable; None for any other error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = _single_outage(current)
        if kind is not None:
            return kind
        current = current.__cause__ or current.__context__
    return None


def is_outage(exc: BaseException) -> bool:
    """True when `exc` means the database or the broker is unreachable (see `outage_kind`)."""
    return outage_kind(exc) is not None


def outage_response(request: Request, kind: str) -> JSONResponse:
    """503 problem+json with Retry-After: the client should simply try again shortly."""
    return problem_response(
        503,
        f"a dependency ({kind}) is unreachable; retry shortly",
        instance=request.url.path,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_outage_handlers(app: FastAPI) -> None:
    """Answer database and broker outages with 503 instead of a 500 "internal error".

    Only error classes that can mean an outage are registered; one of them that is not an
    outage (a deadlock, say) goes on to the app's generic handler for `Exception`."""

    async def _handler(request: Request, exc: Exception) -> Response:
        kind = outage_kind(exc)
        if kind is None:
            fallback = app.exception_handlers.get(Exception)
            if fallback is None:
                raise exc
            response = fallback(request, exc)
            return await response if inspect.isawaitable(response) else response
        log.warning("dependency_outage", dependency=kind, path=loggable_path(request.scope), error=repr(exc))
        return outage_response(request, kind)

    database: tuple[type[Exception], ...] = (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.TimeoutError,
        psycopg.OperationalError,
    )
    for cls in database + NATS_OUTAGES:
        app.add_exception_handler(cls, _handler)
