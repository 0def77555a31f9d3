"""The HTTP server every API and the web app run under: Granian, embedded in our own event loop.

Embedded (not Granian's process manager) so the app object and its lifespan are the ones the
kit built, in this process: one worker, HTTP/1.1 only (what the gateway speaks), no access log
(the gateway writes it). On SIGTERM/SIGINT `app.state.draining` is set first, then Granian stops
accepting, waits for open responses (streams see `draining` and end) and only then runs the
lifespan's exit."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from fastapi import FastAPI
from granian.constants import HTTPModes, Interfaces
from granian.log import LogLevels
from granian.server.embed import Server as Granian

# Granian's own lines go through the root handler (the kit's JSON) at error level: its info lines
# (and "Embedded server is experimental!" at every start) would only be noise.
_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {},
    "loggers": {"_granian": {"propagate": True}, "granian.access": {"propagate": False, "level": "CRITICAL"}},
}
# uvicorn's default: connections the kernel queues before accept. Granian derives from it how
# many requests one worker serves at once, and open streams count among them.
BACKLOG = 2048


class WorkerExited(RuntimeError):
    """Granian's worker ended without being stopped: the app's lifespan startup failed."""


class Server:
    """One app on one port, served from the running event loop until `stop()`."""

    def __init__(self, app: FastAPI, *, host: str, port: int) -> None:
        self.app = app
        self._granian = Granian(
            app,
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            http=HTTPModes.http1,
            websockets=False,
            backlog=BACKLOG,
            log_level=LogLevels.error,
            log_dictconfig=_LOGGING,
            log_access=False,
        )

    async def serve(self) -> None:
        """Until `stop()`; raises when the app's lifespan startup failed (the worker exited)."""
        await self._granian.serve()
        if self._granian.interrupt_children:
            raise WorkerExited("the server's worker exited: the app's lifespan startup failed (see the log)")

    def stop(self) -> None:
        """Streams first (`app.state.draining`), then Granian: it finishes open responses before
        the lifespan's exit runs."""
        self.app.state.draining.set()
        self._granian.stop()  # type: ignore[no-untyped-call]  # (Granian leaves it unannotated)


def serve(app: FastAPI, *, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, on uvloop."""
    import uvloop

    async def main() -> None:
        server = Server(app, host=host, port=port)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, server.stop)
        await server.serve()

    try:
        uvloop.run(main())
    except WorkerExited as exc:
        raise SystemExit(str(exc)) from exc
