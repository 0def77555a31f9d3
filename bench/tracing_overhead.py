"""What tracing costs a request: the profiler's `GET /api/v1/profiler/questions` (JWT check, RLS
transaction, one SELECT, JSON) served by the same uvicorn process setup, with tracing off (as
every process runs unless OTEL_EXPORTER_OTLP_ENDPOINT is set) and on (installed as a service
installs it, every span batched to an exporter that drops it: the in-process cost, without the
network). wrk loads the API port directly, so the gateway adds nothing to either side.

First, in-process: what the request-metrics middleware (on in every API) adds to one request.

    .venv/bin/python bench/tracing_overhead.py [--seconds 8] [--rounds 2] [--keep-data]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journey_local.dev_secrets import DevSecrets
from journey_local.postgres import EmbeddedPostgres
from journey_local.procs import free_port, spawn, stop, wait_for_port
from journey_local.services import SERVICES, prepare, role_dsn
from servicekit.logging import configure_logging

if TYPE_CHECKING:
    import bench.measure as measure
    from bench.wrk import WrkResult, require_wrk, run_wrk
else:
    import measure
    from wrk import WrkResult, require_wrk, run_wrk

BENCH_DIR = Path(__file__).resolve().parent
PATH = "/api/v1/profiler/questions"
USERS = 4


async def middleware_cost(calls: int = 20_000) -> tuple[float, float]:
    """Microseconds per call of a trivial ASGI app behind the kit's middleware, without and with
    its request metrics (best of 5)."""
    from fastapi import FastAPI

    from servicekit.http_metrics import HttpMetrics
    from servicekit.middleware import ServiceMiddleware

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(_message: Any) -> None:
        pass

    unmetered = ServiceMiddleware(bare)
    metered = ServiceMiddleware(bare, metrics=HttpMetrics(service="bench", routes_of=FastAPI()))
    best: dict[str, float] = {}
    for name, app in (("bare", unmetered), ("metered", metered)):
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(calls):
                scope = {"type": "http", "method": "GET", "path": "/x", "headers": [], "query_string": b""}
                await app(scope, receive, send)
            best[name] = min(best.get(name, 1e9), (time.perf_counter() - started) / calls * 1e6)
    return best["bare"], best["metered"]


def measure_mode(
    mode: str, env: dict[str, str], logs: Path, tokens: list[str], seconds: float
) -> tuple[WrkResult, float]:
    """One round: a fresh API process, a warm-up, then `seconds` of load; wrk's figures and the API
    process's CPU milliseconds per request."""
    port = free_port()
    proc = spawn(
        [sys.executable, str(BENCH_DIR / "tracing_app.py"), mode, str(port)], log=logs / f"api-{mode}.log", env=env
    )
    try:
        wait_for_port(port, timeout=60, proc=proc)
        url = f"http://127.0.0.1:{port}{PATH}"
        run_wrk(url, seconds=2, tokens=tokens)  # warm-up: pool filled, code paths hot
        before = measure.cpu_seconds({"api": proc.pid})
        started = time.perf_counter()
        result = run_wrk(url, seconds=seconds, tokens=tokens)
        cpu = measure.cpu_percent(before, measure.cpu_seconds({"api": proc.pid}), time.perf_counter() - started)
        cpu_ms = cpu.get("api", 0.0) * 10 / result.rps if result.rps else 0.0  # % of a core -> ms per request
        return result, cpu_ms
    finally:
        stop(proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep-data", action="store_true")
    args = parser.parse_args(argv)
    require_wrk()
    measure.interrupt_on_sigterm()
    configure_logging("bench", "INFO")  # as the services run: the per-request debug line stays off
    bare, metered = asyncio.run(middleware_cost())
    print(
        f"request metrics in the kit middleware: {metered - bare:.1f} us per request "
        f"({bare:.1f} us without, {metered:.1f} with)"
    )
    profiler = next(spec for spec in SERVICES if spec.name == "profiler")
    secrets = DevSecrets.generate()
    with measure.scratch(Path(tempfile.mkdtemp(prefix="journey-bench-tracing-")), keep=args.keep_data) as root:
        postgres = EmbeddedPostgres(root / "postgres", free_port())
        postgres.start()
        try:
            prepare(profiler, postgres.admin_dsn, secrets.env())
            env = {
                **secrets.env(),
                "DATABASE_URL": role_dsn(postgres.admin_dsn, "profiler_app"),
                "LOG_LEVEL": "WARNING",
            }
            env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
            os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
            tokens = [secrets.mint_token(f"tracing-bench-{i}") for i in range(USERS)]
            print(f"load average before: {os.getloadavg()[0]:.1f}")
            results: dict[str, list[tuple[WrkResult, float]]] = {"off": [], "on": []}
            for _, mode in measure.alternating(["off", "on"], args.rounds):
                result, cpu_ms = measure_mode(mode, env, root / "logs", tokens, args.seconds)
                results[mode].append((result, cpu_ms))
                print(f"tracing {mode:>3}: {result.line()}  API CPU {cpu_ms:.2f} ms/request", flush=True)
        finally:
            postgres.stop()
    off_rps = sum(r.rps for r, _ in results["off"]) / len(results["off"])
    on_rps = sum(r.rps for r, _ in results["on"]) / len(results["on"])
    off_cpu = sum(c for _, c in results["off"]) / len(results["off"])
    on_cpu = sum(c for _, c in results["on"]) / len(results["on"])
    print(
        f"\nmean: off {off_rps:.1f} req/s, on {on_rps:.1f} req/s (ratio {on_rps / off_rps:.2f}); "
        f"API CPU per request off {off_cpu:.2f} ms, on {on_cpu:.2f} ms (+{on_cpu - off_cpu:.2f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
