"""Cost of JetStream `sync_interval: always`: publish rate and ack latency with and without it.

    .venv/bin/python bench/jetstream_sync.py [--messages 5000] [--size 500] [--concurrency 64]
                                             [--warmup 200] [--rounds 1] [--dir DIR] [--keep-data]

Two nats-server processes (journey_local.nats.EmbeddedNats, the one `make run` and the e2e tests use)
on free loopback ports, each with its own temporary store: one with `sync_interval: always` (what the
stack runs: an acknowledged publish is on disk), one with the server's default (fsync every 2 min).
On each, servicekit.events.streams.ensure_stream creates the stream the services use (file storage,
15 min duplicate window); then M messages of ~S bytes, each with its own Nats-Msg-Id, are published
with nats-py in batches of C concurrent publishes (asyncio.gather, one batch after the other). The
script prints publishes/s and p50/p95/p99 ack latency for both, and the always/default ratios.

Client and servers share the machine's CPUs; the client (nats-py, one asyncio loop) can set the pace
for the default server, so its CPU is printed too. The result also depends on the disk under --dir
(its filesystem is printed: on tmpfs fsync costs nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nats
from nats.aio.client import Client as NATS
from nats.aio.client import __version__ as NATS_PY_VERSION

from journey_local.nats import EmbeddedNats
from journey_local.procs import free_port
from servicekit.events.streams import ensure_stream, stream_name

if TYPE_CHECKING:
    import bench.measure as measure
else:
    import measure  # this directory is on sys.path when the script runs

SERVICE = "bench"  # stream BENCH, subjects journey.bench.>
SUBJECT = f"journey.{SERVICE}.sync"
PUBLISH_TIMEOUT = 10.0


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


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the client, the nats-server and the machine (busy and iowait)."""
    return measure.cpu_seconds({"nats-server": server_pid}, iowait=True)


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


def report(result: Result, expected_stored: int) -> None:
    failures = f"errors: {result.errors}" + (f" (e.g. {result.samples[0]})" if result.samples else "")
    print(
        f"{result.name:<8} {result.rate:9.1f} publishes/s   {measure.latency_text(result.latencies)}   "
        f"(acked: {result.ok}, {failures}, {result.elapsed:.2f} s; stream holds {result.stored}"
        f"{'' if result.stored == expected_stored else f', expected {expected_stored}'})",
        flush=True,
    )
    print(f"{'':<8} {measure.cpu_line(result.cpu)}", flush=True)


async def run_bench(servers: dict[str, EmbeddedNats], args: argparse.Namespace) -> bool:
    payload = os.urandom(args.size // 2 + 1).hex()[: args.size].encode()
    print(
        f"{args.messages} messages of {len(payload)} bytes (+ {args.warmup} warm-up) per server, "
        f"{args.concurrency} publishes in flight per batch, nats-py {NATS_PY_VERSION}, "
        f"{os.cpu_count()} CPUs shared by client and servers",
        flush=True,
    )
    order = ["default", "always"] if not args.always_first else ["always", "default"]
    totals = {name: Result(name) for name in order}
    for round_no, name in measure.alternating(order, args.rounds):
        window = await measure_server(servers[name], name, args, payload)
        report(window, (round_no + 1) * (args.warmup + args.messages))
        totals[name].add(window)
    if args.rounds > 1:
        print(f"all {args.rounds} rounds", flush=True)
        for name in order:
            report(totals[name], args.rounds * (args.warmup + args.messages))
    always, default = totals["always"], totals["default"]

    def ratio(a: float, b: float) -> float:
        return a / b if b else math.nan

    print(
        f"ratio always/default: publishes/s {ratio(always.rate, default.rate):.2f}, "
        f"p50 latency {ratio(always.percentile(50), default.percentile(50)):.2f}, "
        f"p99 latency {ratio(always.percentile(99), default.percentile(99)):.2f}",
        flush=True,
    )
    return always.errors == 0 and default.errors == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=5000, help="measured publishes per server (default 5000)")
    parser.add_argument("--size", type=int, default=500, help="payload bytes (default 500)")
    parser.add_argument("--concurrency", type=int, default=64, help="publishes in flight per batch (default 64)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured publishes first (default 200)")
    parser.add_argument("--rounds", type=int, default=1, help="measure both servers this many times, order alternating")
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
        try:
            print(f"stores in {data_dir} ({filesystem_of(data_dir)})", flush=True)
            for server in servers.values():
                server.start()
            print(", ".join(f"{name}: {server.url}" for name, server in servers.items()), flush=True)
            ok = asyncio.run(run_bench(servers, args))
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
            for server in servers.values():
                server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
