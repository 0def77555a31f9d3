"""The dashboard's figures, measured in one run on one local stack (free ports, gateway rate limit lifted):

1. `GET /api/v1/dashboard/me` through Traefik vs a bare FastAPI JSON endpoint through the same Traefik
   (same middleware chain), both loaded by wrk in 4 rounds of `--seconds`/2 each, alternating which
   goes first: the ratio of their summed rates (target >= 0.5).
2. Write -> visible on the SSE stream: first the check-in ceiling (measurable-habit check-ins,
   `PUT /habits/{id}/logs/{date}` through the gateway, wrk with no pause), then check-ins paced at
   ~50 and ~500 writes/s (wrk connections pausing ~500 ms between writes, started at random points
   of the pause so the rate is steady, each wrk thread on its own half of the students; a rate
   above 0.9 x the ceiling runs at 0.8 x the ceiling, and says so) over 50 students, each watching `GET /me/stream`
   through the gateway. Latency from the check-in event's time (stamped in the write's
   transaction, so before its response: an upper bound) to the snapshot carrying it arriving on
   the stream, split at the snapshot's `as_of` (when it was rendered); p50/p95 (targets p95 <=
   50 ms at 50/s, <= 250 ms at 500/s). Also the CPU each check-in costs every process on its way
   (the robust figure on a shared machine), and each check-in's first hops from the rows it left
   (outbox `published_at`, the dashboard inbox's `processed_at`).
3. Priority: 50,000 `session.completed` queued in the PROFILER stream while the dashboard worker is
   stopped; the worker starts, and a `tier.changed` for one student must reach `GET /me` within 1 s.
4. Rebuild: `python -m dashboard rebuild` over every stream (>= 100,000 events): events/s (target >= 5,000).

    .venv/bin/python bench/dashboard_live.py [--seconds 10] [--keep-data] [--parts read,write,priority,rebuild]
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
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import nats
import psycopg

from dashboard.testing import envelope, mixed_history, session_completed, tier_changed
from journey_local.procs import free_port, spawn, stop, wait_for_port
from journey_local.stack import Stack
from servicekit.auth import dev_user_id
from servicekit.events.envelope import Event
from servicekit.events.streams import stream_name

if TYPE_CHECKING:
    import bench.measure as measure
    from bench.wrk import WrkResult, require_wrk, run_wrk
else:
    import measure
    from wrk import WrkResult, require_wrk, run_wrk

BENCH_DIR = Path(__file__).resolve().parent
D, C = "/api/v1/dashboard", "/api/v1/coaching"
REFERENCE_PATH = "/ref/json"
STUDENTS = 50
READ_ROUNDS = 4
BACKLOG = 50_000
REBUILD_EVENTS = 100_000


# --- publishing events straight into the producers' streams ------------------------------------


async def publish_all(nats_url: str, events: list[Event], *, in_flight: int = 256) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        for start in range(0, len(events), in_flight):
            await asyncio.gather(
                *(
                    js.publish(
                        e.type,
                        e.model_dump_json().encode(),
                        stream=stream_name(e.source),
                        headers={"Nats-Msg-Id": str(e.id)},
                    )
                    for e in events[start : start + in_flight]
                )
            )
    finally:
        await nc.close()


# --- 1. GET /me vs a bare JSON endpoint ----------------------------------------------------------


def _rate(results: list[WrkResult]) -> float:
    """Successful requests per second over several runs."""
    return sum(r.requests - r.non2xx for r in results) / sum(r.seconds for r in results)


async def read_ratio(stack: Stack, seconds: float) -> float:
    token = stack.secrets.mint_token("bench-reader")
    user = dev_user_id("bench-reader")
    await publish_all(stack.nats_url, mixed_history(user))
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers={"Authorization": f"Bearer {token}"}) as client:
        while (await client.get(f"{D}/me")).json()["version"] < 2:  # noqa: ASYNC110 (polling the API)
            await asyncio.sleep(0.2)
        size = len((await client.get(f"{D}/me")).content)
    me, bare = stack.gateway_url + f"{D}/me", stack.gateway_url + REFERENCE_PATH
    run_wrk(me, seconds=2, tokens=[token])
    run_wrk(bare, seconds=2)
    # Rounds alternating in order, so that load from outside the run drifts onto both alike.
    ours: list[WrkResult] = []
    theirs: list[WrkResult] = []
    for round_ in range(READ_ROUNDS):
        for target in ("me", "bare") if round_ % 2 == 0 else ("bare", "me"):
            if target == "me":
                ours.append(run_wrk(me, seconds=seconds / 2, tokens=[token]))
            else:
                theirs.append(run_wrk(bare, seconds=seconds / 2))
    for mine, reference in zip(ours, theirs, strict=True):
        print(f"GET /me ({size} B)   {mine.line()}")
        print(f"bare JSON        {reference.line()}")
    ratio = _rate(ours) / _rate(theirs)
    rounds = ", ".join(f"{m.rps / r.rps:.2f}" for m, r in zip(ours, theirs, strict=True))
    print(
        f"=> GET /me / bare JSON through Traefik: {_rate(ours):,.1f} / {_rate(theirs):,.1f} req/s, ratio {ratio:.2f} "
        f"over {READ_ROUNDS} alternated rounds ({rounds}) (target >= 0.5)",
        flush=True,
    )
    return ratio


# --- 2. write -> SSE ------------------------------------------------------------------------------

# A steady rate, not bursts: each wrk thread writes its own half of the students (two threads on
# one student at once would be a burst that coalescing rightly delays), each connection starts at
# a random point of the pause (wrk calls `delay` before a connection's first request too, so
# without it every connection fires at once), and each pause varies by +/-20% so the connections
# do not fall back into step. With no pause (the ceiling) there is no delay at all.
_WRITES = """
local all = {%(targets)s}
local threads = %(threads)d
local per_thread = %(per_thread)d
local pause = %(delay)d
local count = 0
local n = 0
setup = function(thread)
  count = count + 1
  thread:set("id", count)
end
local targets = {}
init = function(args)
  math.randomseed(id * 7919 + os.time())
  for k = id, #all, threads do targets[#targets + 1] = all[k] end
end
request = function()
  n = n + 1
  local t = targets[(n %% #targets) + 1]
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. t[1]}
  -- a new value (almost) every time, within the habit's maximum of 1,000,000
  return wrk.format("PUT", t[2], headers, '{"value": ' .. ((n %% 500000) + math.random(1, 500000)) .. '}')
end
local first = 0
%(delay_fn)s
done = function(summary, latency, requests)
  io.write(string.format('\\nWRK_JSON {"requests":%%d,"duration_us":%%d,"non2xx":%%d,"p50_us":%%d,"p95_us":%%d}\\n',
    summary.requests, summary.duration, summary.errors.status, latency:percentile(50), latency:percentile(95)))
end
"""
_DELAY = """delay = function()
  if first < per_thread then
    first = first + 1
    return math.random(0, pause)
  end
  return math.floor(pause * (0.8 + 0.4 * math.random()))
end"""
WRK_THREADS = 2


@dataclass
class Seen:
    """One check-in as its student's stream showed it: the event's own time (stamped in the write's
    transaction), the snapshot's `as_of` (when the worker rendered it) and the arrival."""

    event_at: datetime
    as_of: datetime
    arrived: datetime


async def watch(gateway: str, token: str, seen: list[Seen], stop_at: list[bool]) -> None:
    """One student's stream. Lines are only timestamped here; they are parsed after the run, so
    the reader's own work stays small while it measures."""
    raw: list[tuple[datetime, str]] = []
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
        client.stream("GET", f"{gateway}{D}/me/stream", headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        try:
            async for line in response.aiter_lines():
                if stop_at[0]:
                    break
                if line.startswith("data:"):
                    raw.append((datetime.now(UTC), line[5:]))
        finally:
            known: set[str] = set()
            for index, (arrived, data) in enumerate(raw):
                snapshot = json.loads(data)
                for entry in snapshot.get("timeline", []):
                    key = entry["at"] + entry["text"]
                    if entry["kind"] == "check_in" and key not in known:
                        known.add(key)
                        if index > 0:  # what the stream starts with was written before: never counted
                            at = datetime.fromisoformat(entry["at"])
                            seen.append(Seen(at, datetime.fromisoformat(snapshot["as_of"]), arrived))


# Each check-in's first two hops from the rows they left: the event's time -> the relay's pass
# that published it (`published_at` is its transaction's start) -> the dashboard consumer's
# transaction that folded it (the inbox claim's `processed_at`, also its transaction's start).
_HOPS = """
SELECT extract(epoch FROM o.published_at - (o.payload->>'time')::timestamptz),
       extract(epoch FROM i.processed_at - o.published_at)
FROM coaching.outbox o
JOIN dashboard.inbox i ON i.event_id = o.id AND i.consumer = 'dashboard-coaching-habit-logged'
WHERE o.subject = 'journey.coaching.habit.logged' AND o.created_at >= %s
"""


def hops(stack: Stack, began: datetime) -> list[tuple[float, float]]:
    with psycopg.connect(stack.admin_dsn, autocommit=True) as conn:
        return [(float(a), float(b)) for a, b in conn.execute(_HOPS, (began,)).fetchall()]


@dataclass
class WriteStep:
    achieved: float
    write_p50_ms: float
    write_p95_ms: float
    seen: list[Seen]
    hops: list[tuple[float, float]]

    def ms(self, pick: Any, p: float) -> float:
        return measure.percentile([pick(s) for s in self.seen], p)

    def line(self) -> str:
        total = lambda s: (s.arrived - s.event_at).total_seconds()  # noqa: E731
        render = lambda s: (s.as_of - s.event_at).total_seconds()  # noqa: E731
        push = lambda s: (s.arrived - s.as_of).total_seconds()  # noqa: E731
        return (
            f"write -> SSE at {self.achieved:.0f} writes/s ({len(self.seen)} check-ins seen): "
            f"p50 {self.ms(total, 50):.0f} ms, p95 {self.ms(total, 95):.0f} ms; "
            f"event -> snapshot rendered p50/p95 {self.ms(render, 50):.0f}/{self.ms(render, 95):.0f} ms, "
            f"rendered -> on the stream {self.ms(push, 50):.0f}/{self.ms(push, 95):.0f} ms; "
            f"the write itself (wrk) p50/p95 {self.write_p50_ms:.0f}/{self.write_p95_ms:.0f} ms"
        )

    def hops_line(self) -> str:
        relay = [r for r, _ in self.hops]
        consumer = [c for _, c in self.hops]
        pct = measure.percentile
        return (
            f"   hops of {len(self.hops)} check-ins, p50/p95: event -> relay publishing it "
            f"{pct(relay, 50):.0f}/{pct(relay, 95):.0f} ms, relay -> dashboard consumer folding it "
            f"{pct(consumer, 50):.0f}/{pct(consumer, 95):.0f} ms (the rest to `as_of` is the consumer's own work)"
        )


def _wrk_writes(gateway: str, targets: list[tuple[str, str]], connections: int, delay_ms: int, seconds: float) -> Any:
    script = _WRITES % {
        "targets": ", ".join(f'{{"{t}", "{p}"}}' for t, p in targets),
        "threads": WRK_THREADS,
        "per_thread": connections // WRK_THREADS,
        "delay": delay_ms,
        "delay_fn": _DELAY if delay_ms else "",
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    try:
        done = subprocess.run(
            [
                require_wrk(),
                f"-t{WRK_THREADS}",
                f"-c{max(connections, WRK_THREADS)}",
                f"-d{round(seconds)}s",
                *("-s", file.name, gateway + "/"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(file.name)
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON "))
    return json.loads(line.removeprefix("WRK_JSON "))


def stack_pids(stack: Stack) -> tuple[dict[str, int], dict[str, int]]:
    """The processes a check-in's way to the stream runs through: (single processes, trees)."""
    pids: dict[str, int] = {}
    for name in ("coaching", "dashboard"):
        service = next(s for s in stack.services if s.spec.name == name)
        for role, proc in (("api", service.api), ("worker", service.worker)):
            if proc is not None:
                pids[f"{name}-{role}"] = proc.pid
    for name, part in (("traefik", stack.traefik), ("nats", stack.nats)):
        proc = getattr(part, "proc", None)
        if proc is not None:
            pids[name] = proc.pid
    postmaster = measure.postmaster_pid(stack.postgres)
    return pids, ({"postgres": postmaster} if postmaster else {})


async def write_ceiling(stack: Stack, seconds: float, targets: list[tuple[str, str]]) -> float:
    """Check-ins per second through the gateway with no pause (32 connections): what this machine
    can write at all, with every other process of the stack sharing its cores. Also the CPU each
    check-in costs every process on its way (the robust figure when other load shares the machine;
    the consumers keep folding a little after wrk stops, so they are sampled once caught up)."""
    pids, trees = stack_pids(stack)
    before = measure.cpu_seconds(pids, trees=trees)
    summary = await asyncio.to_thread(_wrk_writes, stack.gateway_url, targets, 32, 0, seconds)
    await caught_up(stack, targets[0][0])
    after = measure.cpu_seconds(pids, trees=trees)
    writes = summary["requests"] - summary["non2xx"]
    rate = float(writes) / (float(summary["duration_us"]) / 1e6)
    print(
        f"=> check-in ceiling through the gateway (wrk, no pause): {rate:.0f} writes/s, "
        f"p50/p95 {summary['p50_us'] / 1000:.0f}/{summary['p95_us'] / 1000:.0f} ms, non-2xx {summary['non2xx']}",
        flush=True,
    )
    per_write = {k: 1000 * (after[k] - before[k]) / max(writes, 1) for k in before if k in after and k != "client"}
    print(
        "   CPU ms per check-in: "
        + ", ".join(f"{k} {v:.2f}" for k, v in per_write.items() if k != "machine")
        + f" (whole machine {per_write.get('machine', 0):.2f}, other load included)",
        flush=True,
    )
    return rate


async def write_to_sse(stack: Stack, rate: float, seconds: float, targets: list[tuple[str, str]]) -> WriteStep:
    """Check-ins paced at about `rate`: each wrk connection writes, then pauses `PAUSE`, so the
    rate is set by the connections and the pause, not by how fast the server answers."""
    pause = 0.5
    connections = max(1, math.ceil(rate * (pause + 0.03)))
    await caught_up(stack, targets[0][0])
    seen: list[Seen] = []
    flags = [False]
    watchers = [asyncio.create_task(watch(stack.gateway_url, t, seen, flags)) for t, _ in targets]
    await asyncio.sleep(2)  # streams open, first snapshots in
    began = datetime.now(UTC)
    summary = await asyncio.to_thread(
        _wrk_writes, stack.gateway_url, targets, connections, round(pause * 1000), seconds
    )
    await asyncio.sleep(1.5)  # the last writes arrive
    flags[0] = True
    for task in watchers:
        task.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    achieved = (summary["requests"] - summary["non2xx"]) / (summary["duration_us"] / 1e6)
    mine = [s for s in seen if s.event_at >= began]  # not a write of an earlier step still arriving
    steps = await asyncio.to_thread(hops, stack, began)
    return WriteStep(achieved, summary["p50_us"] / 1000, summary["p95_us"] / 1000, mine, steps)


async def caught_up(stack: Stack, token: str) -> None:
    """Until the dashboard has folded every coaching event (its lag report), so a step does not
    measure the backlog of the one before."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(600):
            lag = (await client.get(f"{D}/me")).json()["lag"].get("COACHING") or {}
            if not lag.get("pending"):
                break
            await asyncio.sleep(0.5)
    await asyncio.sleep(1)


async def prepare_writers(stack: Stack) -> list[tuple[str, str]]:
    targets = []
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        for n in range(STUDENTS):
            token = stack.secrets.mint_token(f"bench-writer-{n}")
            headers = {"Authorization": f"Bearer {token}"}
            created = await client.post(
                f"{C}/habits",
                json={"name": "Read", "kind": "measurable", "unit": "pages", "target": 10},
                headers=headers,
            )
            created.raise_for_status()
            body = created.json()
            targets.append((token, f"{C}/habits/{body['id']}/logs/{body['start_date']}"))
    return targets


# --- 3. priority behind a backlog, 4. rebuild -----------------------------------------------------


def dashboard(stack: Stack) -> Any:
    return next(s for s in stack.services if s.spec.name == "dashboard")


async def priority(stack: Stack) -> float:
    service = dashboard(stack)
    stop(service.worker)
    users = [uuid.uuid4() for _ in range(BACKLOG // 10)]
    backlog = [envelope(session_completed(), users[i % len(users)]) for i in range(BACKLOG)]
    await publish_all(stack.nats_url, backlog)
    service.worker = service._spawn_worker()
    await asyncio.sleep(3)  # the worker is up and working through the backlog
    token = stack.secrets.mint_token("bench-upgrader")
    started = time.monotonic()
    await publish_all(
        stack.nats_url, [envelope(tier_changed("pro", when=datetime.now(UTC)), dev_user_id("bench-upgrader"))]
    )
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers={"Authorization": f"Bearer {token}"}) as client:
        while True:
            body = (await client.get(f"{D}/me")).json()
            if body["plan"]["tier"] == "pro":
                elapsed = time.monotonic() - started
                break
            await asyncio.sleep(0.01)
    print(
        f"=> tier.changed behind {BACKLOG:,} queued events reached GET /me in {elapsed * 1000:.0f} ms "
        f"(target < 1000); backlog then: {body['lag'].get('PROFILER')}",
        flush=True,
    )
    return elapsed


async def rebuild_rate(stack: Stack) -> float:
    """The history is published with every worker of the stack stopped and replayed before they
    start again: it stands for events handled long ago. (With them running, the other services
    react to 100,000 new events while the rebuild runs: missions reviews every submission,
    coaching scores every reflection, billing retries made-up Stripe events; still 25,000
    behind after 5 minutes here. And only the rebuild writes the dashboard: its rate, not the
    consumers'.) The APIs keep serving."""
    service = dashboard(stack)
    for each in stack.services:
        if each.worker is not None:
            stop(each.worker)
    nc = await nats.connect(stack.nats_url)
    total = 0
    for stream in ("PROFILER", "BILLING", "MISSIONS", "COACHING"):
        try:
            total += (await nc.jetstream().stream_info(stream)).state.messages
        except Exception:
            pass
    await nc.close()
    more = max(0, REBUILD_EVENTS - total)
    events = [e for _ in range(more // 20 + 1) for e in mixed_history(uuid.uuid4())][:more]
    await publish_all(stack.nats_url, events)
    print(f"   load average before the rebuild: {' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "dashboard", "rebuild"],
        env={**os.environ, **service.env},
        capture_output=True,
        text=True,
        check=True,
    )
    summary = done.stdout.strip().splitlines()[-1]
    print(f"=> {summary}", flush=True)
    rate = float(summary.split("(")[2].split(" events/s")[0].replace(",", ""))
    for each in stack.services:
        each.worker = each._spawn_worker()
    return rate


async def run(stack: Stack, args: argparse.Namespace) -> None:
    await measure.wait_routed(stack.gateway_url, REFERENCE_PATH, 200)
    print(f"machine: {os.cpu_count()} CPUs shared by wrk, the Python SSE readers and every server", flush=True)
    print(f"load average before: {' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
    parts = set(args.parts.split(","))
    if "read" in parts:
        await read_ratio(stack, args.seconds)
    if "write" in parts:
        targets = await prepare_writers(stack)
        ceiling = await write_ceiling(stack, args.seconds, targets)
        for rate, target in ((50, 50), (500, 250)):
            paced = rate if rate <= 0.9 * ceiling else 0.8 * ceiling
            if paced != rate:
                print(f"   {rate} writes/s is over this machine's ceiling: paced at {paced:.0f}/s instead", flush=True)
            step = await write_to_sse(stack, paced, args.seconds, targets)
            print(f"=> {step.line()} (target p95 <= {target} ms at {rate}/s)", flush=True)
            print(step.hops_line(), flush=True)
    if "priority" in parts:
        await priority(stack)
    if "rebuild" in parts:
        await rebuild_rate(stack)
    print(f"load average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument("--parts", default="read,write,priority,rebuild", help="comma-separated: which figures")
    args = parser.parse_args(argv)
    require_wrk()
    measure.interrupt_on_sigterm()
    with measure.scratch(Path(tempfile.mkdtemp(prefix="bench-dashboard-")), keep=args.keep_data) as data_dir:
        stack = Stack(measure.stack_config(data_dir))
        port = free_port()
        reference = spawn(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(BENCH_DIR),
                "bare_json_app:app",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            log=data_dir / "reference.log",
        )
        try:
            wait_for_port(port, proc=reference)
            stack.traefik = measure.BenchTraefik(stack.traefik, f"http://127.0.0.1:{port}")
            stack.start()
            asyncio.run(run(stack, args))
        finally:
            stack.stop()
            stop(reference)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
