"""Throughput of GET /api/v1/profiler/personas/current, then of PUT /sessions/{id}/answers/{question_id},
each against a minimal reference, all through Traefik.

    .venv/bin/python bench/personas_current.py [--seconds 10] [--warmup 2] [--concurrency 32] [--users 4]
                                               [--rounds 4] [--reference-first] [--keep-data]
    make bench

One run starts the whole local stack (journey_local.Stack) in a temporary data dir on free loopback
ports, plus bench/reference_app.py under uvicorn. The stack's Traefik serves the product's gateway
configuration with one more router, `PathPrefix(/ref)`, on the same `journey` middleware chain, so
both targets pay the same gateway cost. A few users complete the questionnaire through the gateway
and wait for their persona; then `wrk` (compiled; a Python client would set the pace) loads each
endpoint in turn, rotating the users' tokens, alternating the order over the rounds, and the script
prints req/s, p50/p90/p99, wrk's own CPU (near 100% = the client set the pace) and the servers' CPU,
then the profiler/reference ratio over all rounds. Then the same for the write: each user opens a
session and wrk PUTs the same answer to it (each token to its own session), against the reference's
RLS-scoped lock-and-upsert (`--no-write` skips it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from journey_local.procs import free_port, spawn, stop, wait_for_port
from journey_local.services import role_dsn
from journey_local.stack import Stack

if TYPE_CHECKING:
    import bench.measure as measure
    from bench.wrk import WrkResult, require_wrk, run_wrk
else:
    import measure  # this directory is on sys.path when the script runs
    from wrk import WrkResult, require_wrk, run_wrk

BENCH_DIR = Path(__file__).resolve().parent
PROFILER_PATH = "/api/v1/profiler/personas/current"
REFERENCE_PATH = "/ref/personas/current"
API = "/api/v1/profiler"
TARGET_RATIO = 0.8
WRITE_TARGET_RATIO = 0.7
RSS_LIMIT_MB = 150


# --- the gateway: the product's dynamic.yml plus one reference router ---------------------------


# --- seeding: complete one questionnaire per user through the gateway ---------------------------


def answer_for(question: dict[str, Any]) -> Any:
    kind = question["kind"]
    if kind == "single_choice":
        return question["options"][0]["value"]
    if kind == "multiple_choice":
        return [question["options"][0]["value"]]
    if kind == "scale":
        return question["scale_min"]
    if kind == "free_text":
        return "some text"
    raise RuntimeError(f"unknown question kind {kind!r}")


def _expect(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    if response.status_code not in statuses:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body


async def complete_questionnaire(client: httpx.AsyncClient, token: str, *, wait_seconds: float = 60.0) -> str:
    """Start, answer and complete a session; return the persona id once it is ready."""
    headers = {"Authorization": f"Bearer {token}"}
    bank = _expect(await client.get(f"{API}/questions", headers=headers), 200)
    session = _expect(await client.post(f"{API}/sessions", headers=headers), 201)
    sid = session["id"]
    for question in bank["items"]:
        if question["required"]:
            url = f"{API}/sessions/{sid}/answers/{question['id']}"
            _expect(await client.put(url, headers=headers, json={"value": answer_for(question)}), 200)
    _expect(await client.post(f"{API}/sessions/{sid}/complete", headers=headers), 202)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        response = await client.get(f"{API}/sessions/{sid}/persona", headers=headers)
        persona = _expect(response, 200, 202)
        if response.status_code == 200:
            return str(persona["id"])
        await asyncio.sleep(0.2)
    raise TimeoutError(f"persona of session {sid} not ready within {wait_seconds}s")


# --- load: wrk ---------------------------------------------------------------------------------


@dataclass
class Window:
    """One measured run of one target: wrk's figures and the servers' CPU meanwhile."""

    name: str
    result: WrkResult
    cpu: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """What wrk sends: GET `path`, or `method` with `body` to each token's own path of `paths`."""

    name: str
    path: str
    process: str  # the server process whose CPU serves it (cpu_seconds' name)
    paths: list[str] | None = None
    method: str = "GET"
    body: str | None = None
    base: str | None = None  # straight to this server instead of through the gateway


def measure_target(
    gateway: str, target: Target, tokens: list[str], args: argparse.Namespace, pids: dict[str, int]
) -> Window:
    gateway = target.base or gateway
    paths = target.paths
    load = {"connections": args.concurrency, "tokens": tokens, "paths": paths, "method": target.method}
    if args.warmup > 0:
        run_wrk(gateway + target.path, seconds=args.warmup, body=target.body, **load)
    before = measure.cpu_seconds(pids)
    started = time.perf_counter()
    result = run_wrk(gateway + target.path, seconds=args.seconds, body=target.body, **load)
    cpu = measure.cpu_percent(before, measure.cpu_seconds(pids), time.perf_counter() - started)
    return Window(target.name, result, cpu)


def report(window: Window) -> None:
    print(f"{window.name:<10} {window.result.line()}", flush=True)
    if window.cpu:
        print(f"{'':<10} {measure.cpu_line(window.cpu)}", flush=True)


# --- orchestration -----------------------------------------------------------------------------


async def run_bench(stack: Stack, args: argparse.Namespace, pids: dict[str, int]) -> None:
    gateway = stack.gateway_url
    tokens = [stack.secrets.mint_token(f"bench-user-{i}") for i in range(args.users)]
    await measure.wait_routed(gateway, REFERENCE_PATH, 401)  # Traefik routes it, the app wants a token

    print(f"seeding: {args.users} users complete a questionnaire through the gateway ...", flush=True)
    async with httpx.AsyncClient(base_url=gateway, timeout=30.0) as client:
        persona_ids = await asyncio.gather(*(complete_questionnaire(client, token) for token in tokens))
        for token, persona_id in zip(tokens, persona_ids, strict=True):
            headers = {"Authorization": f"Bearer {token}"}
            ours = _expect(await client.get(PROFILER_PATH, headers=headers), 200)
            ref = _expect(await client.get(REFERENCE_PATH, headers=headers), 200)
            if not ours["id"] == ref["id"] == persona_id or ours["content"] != ref["content"]:
                raise RuntimeError(f"profiler and reference disagree: {ours['id']} / {ref['id']} / {persona_id}")

    print(
        f"load: wrk, {args.concurrency} connections on 2 threads, {args.warmup:g} s warm-up + {args.seconds:g} s "
        f"measured per target, keep-alive via Traefik, {os.cpu_count()} CPUs shared by wrk and the servers",
        flush=True,
    )
    read = [Target("profiler", PROFILER_PATH, "profiler-api"), Target("reference", REFERENCE_PATH, "reference-app")]
    compare("read: GET personas/current", read, TARGET_RATIO, gateway, tokens, args, pids)
    if args.servers:
        compare_servers(stack, tokens, args, pids)
    if args.no_write:
        return

    print(f"seeding: {args.users} open sessions for the write ...", flush=True)
    async with httpx.AsyncClient(base_url=gateway, timeout=30.0) as client:
        headers = {"Authorization": f"Bearer {tokens[0]}"}
        bank = _expect(await client.get(f"{API}/questions", headers=headers), 200)
        question = next(q for q in bank["items"] if q["kind"] == "single_choice")
        sessions = [
            _expect(await client.post(f"{API}/sessions", headers={"Authorization": f"Bearer {t}"}), 201)["id"]
            for t in tokens
        ]
    body = json.dumps({"value": answer_for(question)})
    answer = f"/sessions/{{}}/answers/{question['id']}"
    write = [
        Target("profiler", PROFILER_PATH, "profiler-api", [API + answer.format(s) for s in sessions], "PUT", body),
        Target(
            "reference", REFERENCE_PATH, "reference-app", [f"/ref{answer.format(s)}" for s in sessions], "PUT", body
        ),
    ]
    compare("write: PUT sessions/{id}/answers/{question_id}", write, WRITE_TARGET_RATIO, gateway, tokens, args, pids)


def compare(
    title: str,
    targets: list[Target],
    target_ratio: float,
    gateway: str,
    tokens: list[str],
    args: argparse.Namespace,
    pids: dict[str, int],
) -> None:
    """Both targets (ours, then its reference) over the rounds, order alternating; then the
    ratio, the worst p99s and the server CPU per request."""
    load = os.getloadavg()[0]  # other work on the machine; during the run this bench is load too
    print(f"--- {title} (load average before: {load:.2f})", flush=True)
    ours, theirs = targets
    windows: dict[str, list[Window]] = {t.name: [] for t in targets}
    for _, target in measure.alternating(targets[::-1] if args.reference_first else targets, args.rounds):
        window = measure_target(gateway, target, tokens, args, pids)
        report(window)
        windows[target.name].append(window)

    def rps(target: Target) -> float:
        runs = windows[target.name]
        total = sum(w.result.rps * w.result.seconds for w in runs)
        return total / sum(w.result.seconds for w in runs)

    def worst_p99(target: Target) -> float:
        return max(w.result.p99_ms for w in windows[target.name])

    def cpu_ms_per_request(target: Target) -> float:
        """The serving process's CPU per answered request: other load on the machine slows a
        server down but hardly changes what each request costs it."""
        runs = windows[target.name]
        cpu_seconds = sum(w.cpu.get(target.process, 0.0) / 100 * w.result.seconds for w in runs)
        requests = sum(w.result.rps * w.result.seconds for w in runs)
        return 1000 * cpu_seconds / requests if requests else math.nan

    ratio = rps(ours) / rps(theirs) if rps(theirs) else math.nan
    print(
        f"{title}: {ours.name} {rps(ours):.1f} vs {theirs.name} {rps(theirs):.1f} req/s over {args.rounds} "
        f"round(s): ratio {ratio:.2f} (target >= {target_ratio}); worst p99 {worst_p99(ours):.1f} vs "
        f"{worst_p99(theirs):.1f} ms (target <= 1.5x); load average before {load:.2f}",
        flush=True,
    )
    cpu_ours, cpu_theirs = cpu_ms_per_request(ours), cpu_ms_per_request(theirs)
    print(
        f"{title}: server CPU per request: {ours.name} {cpu_ours:.2f} vs {theirs.name} {cpu_theirs:.2f} ms "
        f"({theirs.name}/{ours.name} {cpu_theirs / cpu_ours:.2f})",
        flush=True,
    )


def compare_servers(stack: Stack, tokens: list[str], args: argparse.Namespace, pids: dict[str, int]) -> None:
    """The same profiler app, built fresh in two processes with the stack's environment: one under
    Granian embedded (bench/profiler_app.py), one under uvicorn as the kit serves it (uvloop,
    httptools, no access log); straight to each port, in the same run: what the choice of ASGI
    server alone gives."""
    service = stack.services[0]
    env = {**service.env, "PYTHONPATH": str(BENCH_DIR)}
    granian_port, uvicorn_port = free_port(), free_port()
    kit = [sys.executable, str(BENCH_DIR / "profiler_app.py"), str(granian_port)]
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--host", "127.0.0.1", "--port", str(uvicorn_port)]
    uvicorn += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    procs = {
        "profiler-granian": spawn(kit, log=service.log_dir / "profiler-granian.log", env=env),
        "profiler-uvicorn": spawn(
            [*uvicorn, "profiler_app:app"], log=service.log_dir / "profiler-uvicorn.log", env=env
        ),
    }
    try:
        wait_for_port(granian_port, timeout=30, proc=procs["profiler-granian"])
        wait_for_port(uvicorn_port, timeout=30, proc=procs["profiler-uvicorn"])
        targets = [
            Target("granian", PROFILER_PATH, "profiler-granian", base=f"http://127.0.0.1:{granian_port}"),
            Target("uvicorn", PROFILER_PATH, "profiler-uvicorn", base=f"http://127.0.0.1:{uvicorn_port}"),
        ]
        title = "server: GET personas/current, no gateway"
        compare(title, targets, 1.0, "", tokens, args, {**pids, **{k: p.pid for k, p in procs.items()}})
    finally:
        for proc in procs.values():
            stop(proc)


def _pid(proc: subprocess.Popen[bytes] | None) -> int:
    return proc.pid if proc is not None else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured duration per target (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured warm-up per target (default 2)")
    parser.add_argument("--concurrency", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--users", type=int, default=4, help="users with a persona; workers share their tokens")
    parser.add_argument("--rounds", type=int, default=4, help="measure both targets this many times, order alternating")
    parser.add_argument("--reference-first", action="store_true", help="measure the reference before the profiler")
    parser.add_argument("--no-write", action="store_true", help="measure the read only")
    parser.add_argument("--servers", action="store_true", help="also the profiler under Granian vs uvicorn")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary data dir (logs) afterwards")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0 or min(args.concurrency, args.users, args.rounds) < 1:
        parser.error("--seconds > 0, --warmup >= 0, --concurrency, --users and --rounds >= 1")

    require_wrk()
    measure.interrupt_on_sigterm()
    failed = True
    with measure.scratch(Path(tempfile.mkdtemp(prefix="journey-bench-")), keep=args.keep_data) as data_dir:
        reference_port = free_port()
        stack = Stack(measure.stack_config(data_dir))
        stack.traefik = measure.BenchTraefik(stack.traefik, f"http://127.0.0.1:{reference_port}")
        logs = data_dir / "logs"
        reference: subprocess.Popen[bytes] | None = None
        started = False
        try:
            print(f"starting the stack in {data_dir} ...", flush=True)
            stack.start()  # stops whatever it started if it fails
            started = True
            env = {**stack.secrets.env(), "REFERENCE_DATABASE_URL": role_dsn(stack.admin_dsn, "profiler_app")}
            reference = spawn(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--app-dir",
                    str(BENCH_DIR),
                    "--factory",
                    "reference_app:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(reference_port),
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                log=logs / "reference.log",
                env=env,
            )
            wait_for_port(reference_port, timeout=30, proc=reference)
            print(
                f"gateway {stack.gateway_url}, profiler {stack.services[0].url}, "
                f"reference http://127.0.0.1:{reference_port}"
            )
            pids = {"profiler-api": _pid(stack.services[0].api), "reference-app": reference.pid}
            pids["traefik"] = _pid(stack.traefik.proc)
            asyncio.run(run_bench(stack, args, {k: v for k, v in pids.items() if v}))
            every = {"reference-app": reference.pid, "traefik": _pid(stack.traefik.proc)}
            for service in stack.services:
                every[f"{service.spec.name}-api"] = _pid(service.api)
                every[f"{service.spec.name}-worker"] = _pid(service.worker)
            if stack.nats is not None:
                every["nats"] = _pid(stack.nats.proc)
            print(measure.rss_line({k: v for k, v in every.items() if v}, RSS_LIMIT_MB), flush=True)
            failed = False
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
        except Exception as exc:
            print(f"bench failed: {exc!r}", file=sys.stderr)
            for name in ("profiler-api.log", "profiler-worker.log", "reference.log"):
                measure.print_tail(logs / name)
            measure.print_tail(data_dir / "gateway" / "traefik.log")
        finally:
            if reference is not None:
                stop(reference)
            if started:
                stack.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
