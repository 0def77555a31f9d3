"""What the benchmark scripts share: CPU use of processes, latency figures and the lines that print
them, and the harness around a run (rounds, SIGTERM, scratch dir, gateway readiness, log tails).

The scripts run as `.venv/bin/python bench/<name>.py`, which puts this directory on sys.path, so they
`import measure`; mypy names the modules here `bench.*` and sees this one as `bench.measure`.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

import httpx

from journey_local.gateway_routes import HEALTH_CHECK
from journey_local.postgres import EmbeddedPostgres
from journey_local.stack import StackConfig
from journey_local.traefik import EmbeddedTraefik

T = TypeVar("T")

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# --- CPU use ------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (fields[1] is the ppid), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children(parent: int) -> list[int]:
    """The pids of the live children of `parent`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[1] == str(parent):
                found.append(int(entry.name))
    return found


def _ticks(pid: int, *, reaped: bool = False) -> int | None:
    """utime + stime of `pid` (plus cutime + cstime of its reaped children if `reaped`), or None."""
    fields = _stat(pid)
    end = 15 if reaped else 13  # fields[11:15]: utime, stime, cutime, cstime
    try:
        return sum(int(v) for v in fields[11:end]) if fields is not None else None
    except ValueError:
        return None


def _tree_ticks(parent: int) -> int | None:
    """CPU ticks of `parent`, its reaped children and its live children, or None."""
    ticks = _ticks(parent, reaped=True)
    if ticks is None:
        return None
    return ticks + sum(_ticks(child) or 0 for child in _children(parent))


def cpu_seconds(pids: dict[str, int], *, trees: dict[str, int] | None = None, iowait: bool = False) -> dict[str, float]:
    """CPU time used so far by this process ("client"), each of `pids`, each of `trees` (a process with
    its live and reaped children) and the whole machine ("machine": busy time; "iowait" if asked)."""
    seconds = {"client": time.process_time()}
    for name, pid in pids.items():
        ticks = _ticks(pid)
        if ticks is not None:
            seconds[name] = ticks / CLOCK_TICKS
    for name, pid in (trees or {}).items():
        ticks = _tree_ticks(pid)
        if ticks is not None:
            seconds[name] = ticks / CLOCK_TICKS
    try:
        machine = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        seconds["machine"] = (sum(machine) - machine[3] - machine[4]) / CLOCK_TICKS  # minus idle and iowait
        if iowait:
            seconds["iowait"] = machine[4] / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        pass
    return seconds


def cpu_percent(before: dict[str, float], after: dict[str, float], elapsed: float) -> dict[str, float]:
    """CPU use between two cpu_seconds() samples `elapsed` seconds apart, in % of one core."""
    if elapsed <= 0:
        return {}
    return {k: 100 * (after[k] - before[k]) / elapsed for k in before if k in after}


def combined_cpu(a: dict[str, float], a_elapsed: float, b: dict[str, float], b_elapsed: float) -> dict[str, float]:
    """The CPU percentages of two windows as one, each weighted by its duration."""
    total = a_elapsed + b_elapsed
    if not total:
        return a
    return {k: (a.get(k, 0.0) * a_elapsed + b.get(k, 0.0) * b_elapsed) / total for k in {**a, **b}}


def cpu_line(cpu: dict[str, float], *, unattributed: bool = False) -> str:
    """`CPU (100% = one core; N cores): name P%, ...`; with `unattributed`, the machine's busy time
    that no listed process accounts for (short-lived processes, other load) too."""
    usage = ", ".join(f"{name} {pct:.0f}%" for name, pct in cpu.items())
    if unattributed and "machine" in cpu:
        usage += f" (unattributed {cpu['machine'] - sum(v for k, v in cpu.items() if k != 'machine'):.0f}%)"
    return f"CPU (100% = one core; {os.cpu_count()} cores): {usage}"


def postmaster_pid(postgres: EmbeddedPostgres | None) -> int | None:
    """The pid of the postmaster (its backends are its children), from postmaster.pid, or None."""
    if postgres is None:
        return None
    try:
        return int((postgres.data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, IndexError, ValueError):
        return None


def load_line() -> str:
    """`load average 1/5/15 min: a b c (N cores)`: other agents share this machine, so every
    measurement says how busy it was just before."""
    one, five, fifteen = os.getloadavg()
    return f"load average 1/5/15 min: {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def rss_mb(pid: int) -> float | None:
    """Resident memory of `pid` in MB (VmRSS), or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def rss_line(pids: dict[str, int], limit_mb: float) -> str:
    """`RSS after the load (limit N MB): name M MB, ...`, each over the limit marked."""
    sizes = {name: rss_mb(pid) for name, pid in pids.items()}
    parts = [f"{n} {mb:.0f} MB{' (over)' if mb > limit_mb else ''}" for n, mb in sizes.items() if mb is not None]
    return f"RSS after the load (limit {limit_mb:.0f} MB each): " + ", ".join(parts)


# --- rates and latencies ------------------------------------------------------------------------


def per_second(count: int, elapsed: float) -> float:
    """`count` over `elapsed` seconds; 0 for an empty window."""
    return count / elapsed if elapsed else 0.0


def percentile(latencies: list[float], p: float) -> float:
    """Nearest-rank percentile of `latencies` (seconds), in ms; NaN if there are none."""
    if not latencies:
        return math.nan
    ordered = sorted(latencies)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


def latency_text(latencies: list[float]) -> str:
    """`p50 … ms   p95 … ms   p99 … ms` of `latencies`."""
    return "   ".join(f"p{p} {percentile(latencies, p):7.2f} ms" for p in (50, 95, 99))


class Responses(Protocol):
    """The outcome of a window of HTTP requests: 200s (with their latencies) and failures."""

    @property
    def ok(self) -> int: ...
    @property
    def not_ok(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def latencies(self) -> list[float]: ...
    @property
    def statuses(self) -> dict[int, int]: ...


def responses_text(responses: Responses) -> str:
    """Latencies of the 200s, then `(200s: n, non-200: n {status: n}, transport errors: n, t s)`."""
    r = responses
    failures = f"non-200: {r.not_ok}" + (f" {dict(sorted(r.statuses.items()))}" if r.statuses else "")
    if r.errors:
        failures += f", transport errors: {r.errors}"
    return f"{latency_text(r.latencies)}   (200s: {r.ok}, {failures}, {r.elapsed:.2f} s)"


# --- the run ------------------------------------------------------------------------------------


def alternating(items: Sequence[T], rounds: int) -> Iterator[tuple[int, T]]:
    """(round number, item) for `rounds` rounds over `items`, every other round in reverse order;
    prints `round i/n` as each round starts when there is more than one."""
    for round_no in range(rounds):
        if rounds > 1:
            print(f"round {round_no + 1}/{rounds}", flush=True)
        for item in items if round_no % 2 == 0 else items[::-1]:
            yield round_no, item


def interrupt_on_sigterm() -> None:
    """Make SIGTERM raise KeyboardInterrupt, so a killed run still cleans up like Ctrl-C."""

    def _terminate(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)


@contextmanager
def scratch(data_dir: Path, *, keep: bool) -> Iterator[Path]:
    """Remove `data_dir` when the block ends, or with `keep` say where it was kept."""
    try:
        yield data_dir
    finally:
        if keep:
            print(f"data kept in {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def stack_config(data_dir: Path) -> StackConfig:
    """The local stack on free loopback ports, with the gateway's rate limit lifted."""
    return StackConfig.on_free_ports(data_dir, rate_average=1_000_000, rate_burst=1_000_000)


async def wait_routed(gateway: str, path: str, status: int, *, wait_seconds: float = 30.0) -> None:
    """Poll until the gateway answers GET `path` with `status`; TimeoutError after `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    async with httpx.AsyncClient(base_url=gateway) as client:
        while True:
            try:
                if (await client.get(path, timeout=2)).status_code == status:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the gateway did not route {path}")
            await asyncio.sleep(0.2)


def print_tail(path: Path, lines: int = 15) -> None:
    """The last `lines` lines of a log, if it exists, on stderr under a `--- path` header."""
    if path.exists():
        print(f"--- {path} (last {lines} lines)", file=sys.stderr)
        for line in path.read_text(errors="replace").splitlines()[-lines:]:
            print(line, file=sys.stderr)


class BenchTraefik(EmbeddedTraefik):
    """The stack's Traefik, rendering the product's gateway configuration as usual, plus a `/ref`
    router to a reference app on the same `journey` middleware chain: both targets pay the same
    gateway cost."""

    def __init__(self, base: EmbeddedTraefik, reference_url: str) -> None:
        super().__init__(
            base.data_dir,
            base.port,
            base.metrics_port,
            dict(base.values),
            dict(base.service_urls),
            base.streaming_paths,
            base.own_429_paths,
            base.web_url,
        )
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
