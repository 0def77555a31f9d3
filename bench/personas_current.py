"""Throughput of GET /api/v1/profiler/personas/current against a minimal reference, both through Traefik.

    .venv/bin/python bench/personas_current.py [--seconds 10] [--warmup 2] [--concurrency 32] [--users 4]
                                               [--rounds 1] [--reference-first] [--keep-data]
    make bench

One run starts the whole local stack (journey_local.Stack: PostgreSQL, NATS, the profiler API and
worker, Traefik) in a temporary data dir on free loopback ports, plus bench/reference_app.py under
uvicorn. The stack's one Traefik serves the product's gateway/dynamic.yml with one more router,
`PathPrefix(/ref)`, carrying the same middlewares as the profiler router, so both targets pay the same
gateway cost. A few users complete the questionnaire through the gateway and wait for their persona;
then N workers hammer each endpoint in turn (warm-up, then a fixed measured window) and the script
prints req/s and p50/p95/p99 of the 200s for both, and the profiler/reference ratio. With --rounds N
the pair is measured N times, order alternating, and the totals give the ratio.

The load generator (httpx, one asyncio loop) runs on the same machine as everything else, so on a
small box it competes for CPU with the servers it measures; absolute figures are for comparison only.
Each window also prints the CPU the client, the profiler API, the reference app, Traefik and the whole
machine used (100% = one core): a client near 100% means the client, not the server, set the pace.
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

from journey_local.gateway_routes import HEALTH_CHECK
from journey_local.procs import free_port, spawn, stop, wait_for_port
from journey_local.services import role_dsn
from journey_local.stack import Stack
from journey_local.traefik import EmbeddedTraefik

if TYPE_CHECKING:
    import bench.measure as measure
else:
    import measure  # this directory is on sys.path when the script runs

BENCH_DIR = Path(__file__).resolve().parent
PROFILER_PATH = "/api/v1/profiler/personas/current"
REFERENCE_PATH = "/ref/personas/current"
API = "/api/v1/profiler"
TARGET_RATIO = 0.8


# --- the gateway: the product's dynamic.yml plus one reference router ---------------------------


class BenchTraefik(EmbeddedTraefik):
    """The stack's Traefik, rendering the product's gateway configuration as usual plus a
    `reference` router (the same `journey` middleware chain as every service) and service."""

    def __init__(self, base: EmbeddedTraefik, reference_url: str) -> None:
        super().__init__(base.data_dir, base.port, dict(base.values), dict(base.service_urls))
        self.reference_url = reference_url

    def _render(self) -> Path:
        static = super()._render()
        reference = {
            "http": {
                "routers": {
                    "reference": {
                        "rule": "PathPrefix(`/ref`)",
                        "entryPoints": ["web"],
                        "service": "reference",
                        "middlewares": ["journey"],
                    }
                },
                "services": {
                    "reference": {
                        "loadBalancer": {"servers": [{"url": self.reference_url}], "healthCheck": HEALTH_CHECK}
                    }
                },
            }
        }
        (self.data_dir / "dynamic" / "reference.yml").write_text(json.dumps(reference))
        return static


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


# --- load ------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    ok: int = 0
    not_ok: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # percent of one core over the window

    @property
    def rps(self) -> float:
        return measure.per_second(self.ok, self.elapsed)

    def add(self, other: Result) -> None:
        """Fold another window of the same target into this one (CPU weighted by duration)."""
        self.cpu = measure.combined_cpu(self.cpu, self.elapsed, other.cpu, other.elapsed)
        self.ok += other.ok
        self.not_ok += other.not_ok
        self.errors += other.errors
        self.elapsed += other.elapsed
        self.latencies.extend(other.latencies)
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count


async def _worker(client: httpx.AsyncClient, path: str, token: str, until: float, result: Result | None) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            response = await client.get(path, headers=headers)
        except httpx.HTTPError:
            if result is not None:
                result.errors += 1
            await asyncio.sleep(0.01)  # no hot loop against a dead backend
            continue
        took = time.perf_counter() - started
        if result is None:
            continue
        if response.status_code == 200:
            result.ok += 1
            result.latencies.append(took)
        else:
            result.not_ok += 1
            result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1


async def _phase(
    client: httpx.AsyncClient, path: str, tokens: list[str], concurrency: int, seconds: float, result: Result | None
) -> float:
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(_worker(client, path, tokens[i % len(tokens)], until, result) for i in range(concurrency)))
    # Requests started inside the window finish a little after it: divide by the real span.
    return time.perf_counter() - started


async def measure_target(
    gateway: str,
    name: str,
    path: str,
    tokens: list[str],
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
    pids: dict[str, int],
) -> Result:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=gateway, http2=False, limits=limits, timeout=30.0) as client:
        await _phase(client, path, tokens, concurrency, warmup, None)
        result = Result(name)
        before = measure.cpu_seconds(pids)
        result.elapsed = await _phase(client, path, tokens, concurrency, seconds, result)
        after = measure.cpu_seconds(pids)
    result.cpu = measure.cpu_percent(before, after, result.elapsed)
    return result


def report(result: Result) -> None:
    print(f"{result.name:<10} {result.rps:9.1f} req/s   {measure.responses_text(result)}", flush=True)
    if result.cpu:
        print(f"{'':<10} {measure.cpu_line(result.cpu)}", flush=True)


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
        f"load: {args.concurrency} concurrent workers, {args.warmup:g} s warm-up + {args.seconds:g} s measured per "
        f"target, httpx/HTTP1.1 keep-alive via Traefik, {os.cpu_count()} CPUs shared by client and servers",
        flush=True,
    )
    targets = [("profiler", PROFILER_PATH), ("reference", REFERENCE_PATH)]
    if args.reference_first:
        targets.reverse()
    results = {name: Result(name) for name, _ in targets}
    for _, (name, path) in measure.alternating(targets, args.rounds):
        window = await measure_target(
            gateway,
            name,
            path,
            tokens,
            concurrency=args.concurrency,
            seconds=args.seconds,
            warmup=args.warmup,
            pids=pids,
        )
        report(window)
        results[name].add(window)
    if args.rounds > 1:
        print(f"all {args.rounds} rounds", flush=True)
        for name, _ in targets:
            report(results[name])
    ref_rps = results["reference"].rps
    ratio = results["profiler"].rps / ref_rps if ref_rps else math.nan
    print(f"ratio (profiler / reference) req/s = {ratio:.2f} (target >= {TARGET_RATIO})", flush=True)


def _pid(proc: subprocess.Popen[bytes] | None) -> int:
    return proc.pid if proc is not None else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured duration per target (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured warm-up per target (default 2)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent client workers (default 32)")
    parser.add_argument("--users", type=int, default=4, help="users with a persona; workers share their tokens")
    parser.add_argument("--rounds", type=int, default=1, help="measure both targets this many times, order alternating")
    parser.add_argument("--reference-first", action="store_true", help="measure the reference before the profiler")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary data dir (logs) afterwards")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0 or min(args.concurrency, args.users, args.rounds) < 1:
        parser.error("--seconds > 0, --warmup >= 0, --concurrency, --users and --rounds >= 1")

    measure.interrupt_on_sigterm()
    failed = True
    with measure.scratch(Path(tempfile.mkdtemp(prefix="journey-bench-")), keep=args.keep_data) as data_dir:
        reference_port = free_port()
        stack = Stack(measure.stack_config(data_dir))
        stack.traefik = BenchTraefik(stack.traefik, f"http://127.0.0.1:{reference_port}")
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
