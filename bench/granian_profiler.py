"""The profiler's API as Granian serves it (bench only: `granian --factory granian_profiler:app`).

bench/personas_current.py runs it beside the stack's own uvicorn process, with the same
environment, to measure the two ASGI servers on the same app in the same run."""

from __future__ import annotations

from fastapi import FastAPI


def app() -> FastAPI:
    from profiler.main import service

    return service.app()
