"""The profiler's API as an app factory (bench only): bench/personas_current.py --servers builds it
in two processes with the stack's environment, one under the kit's server
(`python bench/profiler_app.py PORT`) and one under uvicorn (`python -m uvicorn --factory
profiler_app:app`), to measure the two servers on the same app in the same run."""

from __future__ import annotations

import sys

from fastapi import FastAPI


def app() -> FastAPI:
    from profiler.main import service

    return service.app()


if __name__ == "__main__":
    from servicekit.server import serve

    serve(app(), host="127.0.0.1", port=int(sys.argv[1]))
