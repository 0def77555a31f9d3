"""JetStream publishing: the cost of `sync_interval: always`, and the outbox relay against raw publishing.

    .venv/bin/python bench/jetstream_sync.py [--messages 5000] [--size 500] [--concurrency 64]
                                             [--warmup 200] [--rounds 1] [--dir DIR] [--keep-data]

Two nats-server processes (journey_local.nats.EmbeddedNats, the one `make run` and the e2e tests use)
on free loopback ports, each with its own temporary store: one with `sync_interval: always` (what the
stack runs: an acknowledged publish is on disk), one with the server's default (fsync every 2 min),
and a PostgreSQL (journey_local.postgres.EmbeddedPostgres) holding a scratch service `bench` with the
kit's event tables. On each server, servicekit.events.streams.ensure_stream creates the stream the
services use (file storage, 15 min duplicate window). Three measurements of M messages of S bytes,
each with its own Nats-Msg-Id:

- default / always: raw nats-py publishing, pipelined in windows of C concurrent publishes
  (asyncio.gather, one window after the other): publishes/s and p50/p95/p99 ack latency;
- relay (on the `always` server): M rows are committed into bench.outbox in one transaction as the
  API role would leave them (with the NOTIFY), and the kit's OutboxRelay, started as a worker starts
  it (`run()`, as the worker role), publishes them and marks them sent: rows/s from the commit to an
  empty outbox (polled every 20 ms).

It prints the always/default ratios and relay/always (the relay's target: >= 0.3). The relay runs in
this process, so "client" CPU is the relay's. The result also depends on the disk under --dir (its
filesystem is printed: on tmpfs fsync costs nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nats
import psycopg
from nats.aio.client import Client as NATS
from nats.aio.client import __version__ as NATS_PY_VERSION

from journey_local.nats import EmbeddedNats
from journey_local.postgres import EmbeddedPostgres
from journey_local.procs import free_port
from journey_local.services import role_dsn
from servicekit.events.outbox import notify_channel
from servicekit.events.relay import OutboxRelay
from servicekit.events.streams import ensure_stream, stream_name
from servicekit.migrations import ensure_schema_and_roles, event_tables_ddl

if TYPE_CHECKING:
    import bench.measure as measure
else:
    import measure  # this directory is on sys.path when the script runs

SERVICE = "bench"  # stream BENCH over journey.bench.>, and the schema of the relay's outbox
SUBJECT = f"journey.{SERVICE}.sync"
PUBLISH_TIMEOUT = 10.0
RELAY_POLL = 0.02


@dataclass
class Result:
    name: str
    ok: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    stored: int = 0

    @property
    def rate(self) -> float:
        return measure.per_second(self.ok, self.elapsed)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the acknowledged publishes, in ms."""
        return measure.percentile(self.latencies, p)

    def add(self, other: Result) -> None:
        self.cpu = measure.combined_cpu(self.cpu, self.elapsed, other.cpu, other.elapsed)
        self.ok += other.ok
        self.errors += other.errors
        self.elapsed += other.elapsed
        self.latencies.extend(other.latencies)
        self.samples.extend(other.samples[: max(0, 5 - len(self.samples))])
        self.stored = other.stored


def cpu_seconds(server_pid: int, postmaster: int | None = None) -> dict[str, float]:
    """CPU seconds so far of the client, the nats-server, PostgreSQL if given, and the machine."""
    trees = {"postgres": postmaster} if postmaster else None
    return measure.cpu_seconds({"nats-server": server_pid}, trees=trees, iowait=True)


def message(size: int) -> bytes:
    """A JSON object of exactly `size` bytes (at least 12) as PostgreSQL prints it back from jsonb,
    so the relay publishes the very bytes the raw publishers send."""
    text = json.dumps({"data": ""})
    return json.dumps({"data": os.urandom(size).hex()[: max(0, size - len(text))]}).encode()


def filesystem_of(path: Path) -> str:
    """The type of the mount holding `path` (longest mount point that prefixes it)."""
    best, kind = "", "unknown"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                mount = parts[1]
                if (str(path) == mount or str(path).startswith(mount.rstrip("/") + "/")) and len(mount) > len(best):
                    best, kind = mount, parts[2]
    except OSError:
        pass
    return f"{kind} on {best or '?'}"


async def publish_all(
    nc: NATS, count: int, payload: bytes, concurrency: int, prefix: str, result: Result | None
) -> None:
    js = nc.jetstream()

    async def one(i: int) -> None:
        started = time.perf_counter()
        try:
            await js.publish(SUBJECT, payload, headers={"Nats-Msg-Id": f"{prefix}-{i}"}, timeout=PUBLISH_TIMEOUT)
        except Exception as exc:
            if result is not None:
                result.errors += 1
                if len(result.samples) < 5:
                    result.samples.append(repr(exc))
            return
        if result is not None:
            result.ok += 1
            result.latencies.append(time.perf_counter() - started)

    for start in range(0, count, concurrency):
        await asyncio.gather(*(one(i) for i in range(start, min(start + concurrency, count))))


async def measure_server(server: EmbeddedNats, name: str, args: argparse.Namespace, payload: bytes) -> Result:
    assert server.proc is not None
    nc = await nats.connect(server.url, name=f"bench-{name}", connect_timeout=2, max_reconnect_attempts=3)
    try:
        js = nc.jetstream()
        await ensure_stream(js, SERVICE)
        run = uuid.uuid4().hex[:8]
        await publish_all(nc, args.warmup, payload, args.concurrency, f"warmup-{run}", None)
        result = Result(name)
        before = cpu_seconds(server.proc.pid)
        started = time.perf_counter()
        await publish_all(nc, args.messages, payload, args.concurrency, f"msg-{run}", result)
        result.elapsed = time.perf_counter() - started
        after = cpu_seconds(server.proc.pid)
        result.cpu = measure.cpu_percent(before, after, result.elapsed)
        info = await js.stream_info(stream_name(SERVICE))
        result.stored = int(info.state.messages)
        return result
    finally:
        await asyncio.wait_for(nc.close(), 5)


# --- the relay ----------------------------------------------------------------------------------


def create_outbox(admin_dsn: str) -> None:
    """The scratch service `bench`: schema, roles and the kit's event tables (outbox included)."""
    ensure_schema_and_roles(admin_dsn, SERVICE)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for statement in event_tables_ddl(SERVICE):
            conn.execute(statement)


async def queue_rows(app_dsn: str, count: int, payload: bytes) -> float:
    """`count` outbox rows committed in one transaction as the API role, with the NOTIFY that
    `add_event` sends: what the relay finds after `count` API transactions. Returns the time
    (perf_counter) of the commit, which wakes the relay."""
    async with await psycopg.AsyncConnection.connect(app_dsn) as conn:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO outbox (id, subject, payload) "
                "SELECT gen_random_uuid(), %s, %s::jsonb FROM generate_series(1, %s)",
                (SUBJECT, payload.decode(), count),
            )
            await conn.execute("SELECT pg_notify(%s, '')", (notify_channel(SERVICE),))
        return time.perf_counter()


async def drained(admin: psycopg.AsyncConnection[Any], count: int) -> int:
    """Wait until the outbox has no unpublished row; returns how many were published. Raises
    TimeoutError if the relay stops making progress for 30 s."""
    last, stalled_since = -1, time.monotonic()
    while True:
        row = await (await admin.execute("SELECT count(*) FROM bench.outbox WHERE published_at IS NULL")).fetchone()
        left = int(row[0]) if row else -1
        if left == 0:
            return count
        if left != last:
            last, stalled_since = left, time.monotonic()
        elif time.monotonic() - stalled_since > 30:
            raise TimeoutError(f"the relay left {left} of {count} rows unpublished for 30 s")
        await asyncio.sleep(RELAY_POLL)


async def measure_relay(
    server: EmbeddedNats, postgres: EmbeddedPostgres, args: argparse.Namespace, payload: bytes
) -> Result:
    assert server.proc is not None
    nc = await nats.connect(server.url, name="bench-relay", connect_timeout=2, max_reconnect_attempts=3)
    app_dsn, worker_dsn = (role_dsn(postgres.admin_dsn, f"{SERVICE}_{role}") for role in ("app", "worker"))
    await ensure_stream(nc.jetstream(), SERVICE)
    relay = OutboxRelay(worker_dsn, SERVICE, nc.jetstream())
    task = asyncio.create_task(relay.run())
    try:
        async with await psycopg.AsyncConnection.connect(postgres.admin_dsn, autocommit=True) as admin:
            if args.warmup:
                await queue_rows(app_dsn, args.warmup, payload)
                await drained(admin, args.warmup)
            result = Result("relay")
            before = cpu_seconds(server.proc.pid, measure.postmaster_pid(postgres))
            started = await queue_rows(app_dsn, args.messages, payload)
            result.ok = await drained(admin, args.messages)
            result.elapsed = time.perf_counter() - started
            after = cpu_seconds(server.proc.pid, measure.postmaster_pid(postgres))
            result.cpu = measure.cpu_percent(before, after, result.elapsed)
            info = await nc.jetstream().stream_info(stream_name(SERVICE))
            result.stored = int(info.state.messages)
            return result
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.wait_for(nc.close(), 5)


# --- the run ------------------------------------------------------------------------------------


def report(result: Result, expected_stored: int | None) -> None:
    """One line of figures, then the CPU line; with `expected_stored`, the stream's count checked."""
    relay = result.name == "relay"
    failures = f"errors: {result.errors}" + (f" (e.g. {result.samples[0]})" if result.samples else "")
    stream = ""
    if expected_stored is not None:
        stream = f"; stream holds {result.stored}" + (
            "" if result.stored == expected_stored else f", expected {expected_stored}"
        )
    print(
        f"{result.name:<8} {result.rate:9.1f} {'rows/s     ' if relay else 'publishes/s'}   "
        f"{'(published and marked sent)' if relay else measure.latency_text(result.latencies)}   "
        f"({'published' if relay else 'acked'}: {result.ok}, {failures}, {result.elapsed:.2f} s{stream})",
        flush=True,
    )
    print(f"{'':<8} {measure.cpu_line(result.cpu)}", flush=True)


async def run_bench(servers: dict[str, EmbeddedNats], postgres: EmbeddedPostgres, args: argparse.Namespace) -> bool:
    payload = message(args.size)
    print(
        f"{args.messages} messages of {len(payload)} bytes (+ {args.warmup} warm-up) per measurement, "
        f"{args.concurrency} raw publishes in flight per window, the relay's own batches; nats-py "
        f"{NATS_PY_VERSION}; {os.cpu_count()} CPUs shared by client and servers",
        flush=True,
    )
    order = ["default", "always", "relay"] if not args.always_first else ["always", "default", "relay"]
    totals = {name: Result(name) for name in order}
    stored = {"default": 0, "always": 0}  # the relay publishes to the `always` server's stream
    for _, name in measure.alternating(order, args.rounds):
        print(measure.load_line(), flush=True)
        if name == "relay":
            window = await measure_relay(servers["always"], postgres, args, payload)
            stored["always"] += args.warmup + args.messages
        else:
            window = await measure_server(servers[name], name, args, payload)
            stored[name] += args.warmup + args.messages
        report(window, stored["always" if name == "relay" else name])
        totals[name].add(window)
    if args.rounds > 1:
        print(f"all {args.rounds} rounds", flush=True)
        for name in order:
            report(totals[name], None)
    always, default, relay = totals["always"], totals["default"], totals["relay"]

    def ratio(a: float, b: float) -> float:
        return a / b if b else math.nan

    print(
        f"ratio always/default: publishes/s {ratio(always.rate, default.rate):.2f}, "
        f"p50 latency {ratio(always.percentile(50), default.percentile(50)):.2f}, "
        f"p99 latency {ratio(always.percentile(99), default.percentile(99)):.2f}",
        flush=True,
    )
    print(f"ratio relay/always (raw, pipelined): {ratio(relay.rate, always.rate):.2f} (target >= 0.3)", flush=True)
    return always.errors == 0 and default.errors == 0 and relay.ok == args.messages * args.rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=5000, help="measured messages per measurement (default 5000)")
    parser.add_argument("--size", type=int, default=500, help="payload bytes (default 500)")
    parser.add_argument("--concurrency", type=int, default=64, help="publishes in flight per batch (default 64)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured publishes first (default 200)")
    parser.add_argument("--rounds", type=int, default=1, help="measure all three this many times, order alternating")
    parser.add_argument("--always-first", action="store_true", help="measure the sync_interval: always server first")
    parser.add_argument("--dir", type=Path, default=None, help="parent of the temporary stores (default: system tmp)")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary stores (and logs) afterwards")
    args = parser.parse_args(argv)
    if min(args.messages, args.size, args.concurrency, args.rounds) < 1 or args.warmup < 0:
        parser.error("--messages, --size, --concurrency, --rounds >= 1 and --warmup >= 0")

    measure.interrupt_on_sigterm()
    ok = False
    data_dir = Path(tempfile.mkdtemp(prefix="journey-bench-jetstream-", dir=args.dir)).resolve()
    with measure.scratch(data_dir, keep=args.keep_data):
        servers = {
            "default": EmbeddedNats(data_dir / "default", free_port(), sync_always=False),
            "always": EmbeddedNats(data_dir / "always", free_port(), sync_always=True),
        }
        postgres = EmbeddedPostgres(data_dir / "postgres", free_port())
        started: list[EmbeddedNats | EmbeddedPostgres] = []
        try:
            print(f"stores in {data_dir} ({filesystem_of(data_dir)})", flush=True)
            processes: list[EmbeddedNats | EmbeddedPostgres] = [*servers.values(), postgres]
            for process in processes:
                process.start()
                started.append(process)
            create_outbox(postgres.admin_dsn)
            print(", ".join(f"{name}: {server.url}" for name, server in servers.items()), flush=True)
            ok = asyncio.run(run_bench(servers, postgres, args))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
        except Exception as exc:
            print(f"bench failed: {exc!r}", file=sys.stderr)
            for server in servers.values():
                log = server.data_dir / "nats.log"
                if log.exists():
                    print(f"--- {log}", file=sys.stderr)
                    print("\n".join(log.read_text(errors="replace").splitlines()[-10:]), file=sys.stderr)
        finally:
            for process in started:
                process.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
