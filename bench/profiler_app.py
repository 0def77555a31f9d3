"""The profiler's API as an app factory (bench only): bench/personas_current.py --servers builds it
in two fresh processes with the stack's environment, one under uvicorn as the kit serves it
(`python -m uvicorn --factory profiler_app:app`) and one under Granian embedded in the process
(`python bench/profiler_app.py PORT`: one worker, uvloop, HTTP/1.1, no access log, the candidate
decision 140 measured), to compare the two servers on the same app in the same run."""

from __future__ import annotations

import sys

from fastapi import FastAPI


def app() -> FastAPI:
    from profiler.main import service

    return service.app()


async def serve_granian(port: int) -> None:
    import asyncio
    import signal

    from granian.constants import HTTPModes, Interfaces
    from granian.server.embed import Server

    server = Server(app(), port=port, interface=Interfaces.ASGI, http=HTTPModes.http1, websockets=False, backlog=2048)
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, server.stop)
    await server.serve()


if __name__ == "__main__":
    import uvloop

    uvloop.run(serve_granian(int(sys.argv[1])))
