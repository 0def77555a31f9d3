"""Webhook intake rate: signed Stripe events posted through Traefik, and how fast the worker applies them.

    .venv/bin/python bench/webhook_intake.py [--events 10000] [--users 2000] [--concurrency 32]
                                             [--plans-seconds 5] [--plans-warmup 1] [--apply-timeout 600]
                                             [--keep-data]

One run starts the whole local stack (journey_local.Stack: PostgreSQL, NATS, the profiler and billing
APIs and workers, Traefik) in a temporary data dir on free loopback ports, with the gateway's rate
limit lifted. The stack runs billing without Stripe keys, so the webhook secret is
the stack's generated development webhook secret; the script signs with it, exactly as Stripe would.

1. Reference: GET /api/v1/billing/plans (public, cheap) through the same Traefik with the same
   concurrency for a fixed window: req/s.
2. Intake: N distinct `customer.subscription.created` / `.updated` events (users interleaved, one
   subscription per user, `created` increasing) are POSTed, each signed just before it is sent, to
   /api/v1/billing/webhooks/stripe by C concurrent workers: events/s of the 200s, non-200s counted.
3. Application: the billing worker applies the stored events (outbox -> NATS -> consumer). The
   script polls billing.stripe_events as the admin role until every accepted event is processed
   (bounded by --apply-timeout) and prints events/s from the first POST to the last processed_at,
   and the lag after the intake finished.
4. Check: each user went free -> plus exactly once, so billing.outbox holds one
   journey.billing.tier.changed row per distinct user.

The load generator (httpx, one asyncio loop) runs on the same machine as everything else, and the
worker applies events while the intake runs, so on a small box they all compete for the CPU;
absolute figures are for comparison only. CPU per process (100% = one core) is printed per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import stripe

from contracts.billing import TierChanged
from journey_local.stack import Stack

if TYPE_CHECKING:
    import bench.measure as measure
else:
    import measure  # this directory is on sys.path when the script runs

WEBHOOK_PATH = "/api/v1/billing/webhooks/stripe"
PLANS_PATH = "/api/v1/billing/plans"
PRICE = "price_journey_plus_monthly"  # BillingSettings.stripe_price_plus_monthly, seeded for plus_monthly


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    user_id: uuid.UUID
    subscription_id: str
    customer_id: str


def subscription(customer: Customer, period_end: int) -> dict[str, Any]:
    """Shaped like services/billing/tests/conftest.py Stripe.subscription."""
    return {
        "id": customer.subscription_id,
        "object": "subscription",
        "customer": customer.customer_id,
        "status": "active",
        "cancel_at_period_end": False,
        "canceled_at": None,
        "trial_end": None,
        "metadata": {"user_id": str(customer.user_id)},
        "items": {"object": "list", "data": [{"price": {"id": PRICE}, "current_period_end": period_end}]},
    }


def build_events(n_events: int, n_users: int) -> tuple[list[str], list[str], set[uuid.UUID]]:
    """N event bodies (JSON text), their ids, and the users they name. Users are interleaved
    (event i belongs to user i % users); a user's first event is `created`, later ones `updated`,
    and `created` increases with i."""
    customers = [
        Customer(uuid.uuid4(), f"sub_{uuid.uuid4().hex[:14]}", f"cus_{uuid.uuid4().hex[:10]}") for _ in range(n_users)
    ]
    now = int(time.time())
    base = now - n_events - 60  # every `created` lies in the past
    period_end = now + 30 * 86400
    bodies, ids, users = [], [], set()
    for i in range(n_events):
        customer = customers[i % n_users]
        users.add(customer.user_id)
        kind = "customer.subscription.created" if i < n_users else "customer.subscription.updated"
        event = {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": kind,
            "created": base + i,
            "livemode": False,
            "api_version": "2025-10-29.clover",
            "data": {"object": subscription(customer, period_end + i)},
        }
        bodies.append(json.dumps(event))
        ids.append(str(event["id"]))
    return bodies, ids, users


def sign(payload: str, secret: str) -> str:
    return str(stripe.WebhookSignature.generate_signature_header(payload, secret, int(time.time())))


# --- measurements ------------------------------------------------------------------------------


@dataclass
class Load:
    ok: int = 0
    duplicates: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)  # the first few failures, verbatim
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return measure.per_second(self.ok, self.elapsed)

    @property
    def not_ok(self) -> int:
        return sum(self.statuses.values())

    def failure(self, status: int | None, text: str) -> None:
        if status is None:
            self.errors += 1
        else:
            self.statuses[status] = self.statuses.get(status, 0) + 1
        if len(self.samples) < 5:
            self.samples.append(f"{status if status is not None else 'transport'}: {text[:300]}")

    def summary(self) -> str:
        return measure.responses_text(self)


@dataclass
class Processes:
    pids: dict[str, int]
    postmaster: int | None

    def snapshot(self) -> dict[str, float]:
        """CPU seconds so far (see measure.cpu_seconds), PostgreSQL as the postmaster with its backends."""
        return measure.cpu_seconds(self.pids, trees={"postgres": self.postmaster} if self.postmaster else None)


# --- phase 1: GET /plans ----------------------------------------------------------------------


async def _plans_worker(client: httpx.AsyncClient, until: float, load: Load | None) -> None:
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            response = await client.get(PLANS_PATH)
        except httpx.HTTPError as exc:
            if load is not None:
                load.failure(None, repr(exc))
            await asyncio.sleep(0.01)  # no hot loop against a dead backend
            continue
        if load is None:
            continue
        if response.status_code == 200:
            load.ok += 1
            load.latencies.append(time.perf_counter() - started)
        else:
            load.failure(response.status_code, response.text)


async def measure_plans(client: httpx.AsyncClient, args: argparse.Namespace, procs: Processes) -> Load:
    until = time.perf_counter() + args.plans_warmup
    await asyncio.gather(*(_plans_worker(client, until, None) for _ in range(args.concurrency)))
    load = Load()
    before = procs.snapshot()
    started = time.perf_counter()
    until = started + args.plans_seconds
    await asyncio.gather(*(_plans_worker(client, until, load) for _ in range(args.concurrency)))
    load.elapsed = time.perf_counter() - started  # requests started in the window end a bit after it
    load.cpu = measure.cpu_percent(before, procs.snapshot(), load.elapsed)
    return load


# --- phase 2: webhook intake --------------------------------------------------------------------


async def _intake_worker(
    client: httpx.AsyncClient, jobs: Iterator[int], bodies: list[str], accepted: list[bool], load: Load, secret: str
) -> None:
    for i in jobs:  # one shared iterator: each event is posted once
        payload = bodies[i]
        headers = {"Stripe-Signature": sign(payload, secret), "Content-Type": "application/json"}
        started = time.perf_counter()
        try:
            response = await client.post(WEBHOOK_PATH, content=payload.encode(), headers=headers)
        except httpx.HTTPError as exc:
            load.failure(None, repr(exc))
            continue
        if response.status_code != 200:
            load.failure(response.status_code, response.text)
            continue
        load.ok += 1
        load.latencies.append(time.perf_counter() - started)
        if response.json().get("duplicate"):
            load.duplicates += 1
        else:
            accepted[i] = True


async def run_intake(
    client: httpx.AsyncClient, bodies: list[str], concurrency: int, procs: Processes, secret: str
) -> tuple[Load, list[bool], float, float]:
    """Post every event once; returns the load, which events were stored, and the wall-clock
    times (time.time()) of the first POST and of the end of the intake."""
    accepted = [False] * len(bodies)
    load = Load()
    jobs = iter(range(len(bodies)))
    before = procs.snapshot()
    first_post = time.time()
    started = time.perf_counter()
    await asyncio.gather(*(_intake_worker(client, jobs, bodies, accepted, load, secret) for _ in range(concurrency)))
    load.elapsed = time.perf_counter() - started
    intake_end = time.time()
    load.cpu = measure.cpu_percent(before, procs.snapshot(), load.elapsed)
    return load, accepted, first_post, intake_end


# --- phase 3: application ----------------------------------------------------------------------


@dataclass
class Applied:
    processed: int
    stored: int
    with_error: int
    last_processed: datetime | None
    done: bool
    waited: float


APPLY_QUERY = (
    "SELECT count(*) FILTER (WHERE processed_at IS NOT NULL), count(*), count(*) FILTER (WHERE error IS NOT NULL), "
    "max(processed_at) FROM billing.stripe_events"
)


async def wait_applied(admin_dsn: str, expected: int, max_wait: float) -> Applied:
    """Poll until `expected` events are processed, or `max_wait` seconds pass."""
    started = time.monotonic()
    next_report = started + 10
    async with await psycopg.AsyncConnection.connect(admin_dsn, autocommit=True) as conn:
        while True:
            row = await (await conn.execute(APPLY_QUERY)).fetchone()
            assert row is not None
            processed, stored, with_error, last = int(row[0]), int(row[1]), int(row[2]), row[3]
            now = time.monotonic()
            if processed >= expected or now - started > max_wait:
                return Applied(processed, stored, with_error, last, processed >= expected, now - started)
            if now >= next_report:
                print(
                    f"  applying: {processed}/{expected} processed, {with_error} with an error, "
                    f"{now - started:.0f} s after the intake",
                    flush=True,
                )
                next_report = now + 10
            await asyncio.sleep(0.25)


# --- phase 4: check ----------------------------------------------------------------------------


CHECK_QUERIES = {
    "tier_changed": "SELECT count(*) FROM billing.outbox WHERE subject = %(subject)s",
    "tier_changed_users": (
        "SELECT count(DISTINCT payload->>'subject') FROM billing.outbox WHERE subject = %(subject)s"
    ),
    "tier_changed_published": (
        "SELECT count(*) FROM billing.outbox WHERE subject = %(subject)s AND published_at IS NOT NULL"
    ),
    "plus_users": "SELECT count(*) FROM billing.user_tiers WHERE tier = 'plus'",
    "subscriptions": "SELECT count(*) FROM billing.subscriptions",
    "dead_letters": "SELECT count(*) FROM billing.dead_letters",
    "event_errors": "SELECT count(*) FROM billing.stripe_events WHERE error IS NOT NULL",
}


async def check(admin_dsn: str) -> dict[str, int]:
    counts = {}
    async with await psycopg.AsyncConnection.connect(admin_dsn, autocommit=True) as conn:
        for name, query in CHECK_QUERIES.items():
            row = await (await conn.execute(query, {"subject": TierChanged.SUBJECT})).fetchone()
            counts[name] = int(row[0]) if row else -1
        if counts["event_errors"]:
            rows = await (
                await conn.execute(
                    "SELECT error, count(*) FROM billing.stripe_events WHERE error IS NOT NULL "
                    "GROUP BY error ORDER BY count(*) DESC LIMIT 3"
                )
            ).fetchall()
            for error, n in rows:
                print(f"  stored event error x{n}: {str(error)[:300]}", flush=True)
    return counts


# --- orchestration -----------------------------------------------------------------------------


async def preflight(gateway: str, admin_dsn: str) -> None:
    async with await psycopg.AsyncConnection.connect(admin_dsn, autocommit=True) as conn:
        row = await (await conn.execute("SELECT id FROM billing.plans WHERE stripe_price_id = %s", (PRICE,))).fetchone()
        if row is None:
            raise RuntimeError(f"no seeded plan has Stripe price {PRICE}")
        row = await (await conn.execute("SELECT count(*) FROM billing.stripe_events")).fetchone()
        if row is None or row[0] != 0:
            raise RuntimeError("billing.stripe_events is not empty at the start")
    await measure.wait_routed(gateway, PLANS_PATH, 200)


async def run_bench(stack: Stack, args: argparse.Namespace, procs: Processes) -> bool:
    gateway = stack.gateway_url
    await preflight(gateway, stack.admin_dsn)
    bodies, ids, users = build_events(args.events, args.users)
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    print(
        f"load: {args.concurrency} concurrent workers, httpx/HTTP1.1 keep-alive via Traefik, "
        f"{os.cpu_count()} CPUs shared by client, servers and the billing worker",
        flush=True,
    )
    async with httpx.AsyncClient(base_url=gateway, limits=limits, timeout=30.0) as client:
        print(f"reference: GET {PLANS_PATH} for {args.plans_warmup:g} s warm-up + {args.plans_seconds:g} s", flush=True)
        plans = await measure_plans(client, args, procs)
        print(f"plans GET  {plans.rate:9.1f} req/s     {plans.summary()}", flush=True)
        print(f"           {measure.cpu_line(plans.cpu, unattributed=True)}", flush=True)

        print(
            f"intake: {len(bodies)} signed events ({len(users)} users, "
            f"{len(bodies) / len(users):.1f} events each) to POST {WEBHOOK_PATH}",
            flush=True,
        )
        intake, accepted, first_post, intake_end = await run_intake(
            client, bodies, args.concurrency, procs, stack.secrets.stripe_webhook_secret
        )
    print(f"intake     {intake.rate:9.1f} events/s  {intake.summary()}", flush=True)
    print(f"           {measure.cpu_line(intake.cpu, unattributed=True)}", flush=True)
    for sample in intake.samples:
        print(f"           failure: {sample}", flush=True)

    expected = sum(accepted)
    before = procs.snapshot()
    tail_start = time.perf_counter()
    applied = await wait_applied(stack.admin_dsn, expected, args.apply_timeout)
    tail_cpu = measure.cpu_percent(before, procs.snapshot(), time.perf_counter() - tail_start)

    last = applied.last_processed.timestamp() if applied.last_processed else math.nan
    span = last - first_post
    apply_rate = applied.processed / span if span > 0 else math.nan
    lag = max(0.0, last - intake_end)
    counts = await check(stack.admin_dsn)

    print("", flush=True)
    print("=== summary ===", flush=True)
    print(
        f"events posted: {len(bodies)}; 200: {intake.ok} (duplicates: {intake.duplicates}); "
        f"non-200: {intake.not_ok}; transport errors: {intake.errors}",
        flush=True,
    )
    print(f"intake rate:            {intake.rate:9.1f} events/s over {intake.elapsed:.2f} s", flush=True)
    print(f"plans GET rate:         {plans.rate:9.1f} req/s over {plans.elapsed:.2f} s", flush=True)
    ratio = intake.rate / plans.rate if plans.rate else math.nan
    print(f"intake / plans-GET ratio: {ratio:.2f}", flush=True)
    state = "all applied" if applied.done else f"TIMED OUT after {applied.waited:.0f} s"
    print(
        f"applied: {applied.processed}/{expected} stored events processed ({state}); "
        f"stored rows: {applied.stored}; rows with an error: {applied.with_error}",
        flush=True,
    )
    print(
        f"application rate:       {apply_rate:9.1f} events/s (first POST to last processed_at, {span:.2f} s)",
        flush=True,
    )
    print(f"application lag after intake: {lag:.2f} s", flush=True)
    print(f"after-intake tail {measure.cpu_line(tail_cpu, unattributed=True)}", flush=True)
    print(
        f"tier.changed rows in billing.outbox: {counts['tier_changed']} "
        f"(distinct users: {counts['tier_changed_users']}, published to NATS: {counts['tier_changed_published']}); "
        f"users in the events: {len(users)}; user_tiers at plus: {counts['plus_users']}; "
        f"subscriptions: {counts['subscriptions']}; dead letters: {counts['dead_letters']}",
        flush=True,
    )
    ok = (
        intake.ok == len(bodies)
        and intake.duplicates == 0
        and applied.done
        and applied.processed == len(ids)
        and counts["tier_changed"] == len(users)
        and counts["tier_changed_users"] == len(users)
        and counts["plus_users"] == len(users)
        and counts["dead_letters"] == 0
        and counts["event_errors"] == 0
    )
    print(f"check: {'OK' if ok else 'FAILED'} (tier.changed rows == distinct users == {len(users)})", flush=True)
    return ok


def _postmaster(stack: Stack) -> int | None:
    if stack.postgres is None:
        return None
    try:
        return int((stack.postgres.data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, IndexError, ValueError):
        return None


def processes(stack: Stack) -> Processes:
    pids: dict[str, int] = {}
    for service in stack.services:
        for role, proc in (("api", service.api), ("worker", service.worker)):
            if proc is not None:
                pids[f"{service.spec.name}-{role}"] = proc.pid
    if stack.traefik.proc is not None:
        pids["traefik"] = stack.traefik.proc.pid
    if stack.nats is not None and stack.nats.proc is not None:
        pids["nats"] = stack.nats.proc.pid
    return Processes(pids, _postmaster(stack))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000, help="webhook events to post (default 10000)")
    parser.add_argument("--users", type=int, default=2_000, help="users the events are spread over (default 2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent client workers (default 32)")
    parser.add_argument("--plans-seconds", type=float, default=5.0, help="measured GET /plans window (default 5)")
    parser.add_argument("--plans-warmup", type=float, default=1.0, help="unmeasured GET /plans warm-up (default 1)")
    parser.add_argument("--apply-timeout", type=float, default=600.0, help="max wait for the worker (default 600 s)")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary data dir (logs) afterwards")
    args = parser.parse_args(argv)
    if min(args.events, args.users, args.concurrency) < 1 or args.users > args.events:
        parser.error("--events, --users and --concurrency >= 1, and --users <= --events")
    if args.plans_seconds <= 0 or args.plans_warmup < 0 or args.apply_timeout <= 0:
        parser.error("--plans-seconds > 0, --plans-warmup >= 0, --apply-timeout > 0")

    measure.interrupt_on_sigterm()
    ok = False
    with measure.scratch(Path(tempfile.mkdtemp(prefix="journey-bench-webhooks-")), keep=args.keep_data) as data_dir:
        stack = Stack(measure.stack_config(data_dir))
        logs = data_dir / "logs"
        started = False
        try:
            print(f"starting the stack in {data_dir} ...", flush=True)
            stack.start()  # stops whatever it started if it fails
            started = True
            billing = next(s for s in stack.services if s.spec.name == "billing")
            print(f"gateway {stack.gateway_url}, billing {billing.url}", flush=True)
            ok = asyncio.run(run_bench(stack, args, processes(stack)))
            if not ok:
                for name in ("billing-api.log", "billing-worker.log"):
                    measure.print_tail(logs / name)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
        except Exception as exc:
            print(f"bench failed: {exc!r}", file=sys.stderr)
            for name in ("billing-api.log", "billing-worker.log"):
                measure.print_tail(logs / name)
            measure.print_tail(data_dir / "gateway" / "traefik.log")
        finally:
            if started:
                stack.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
