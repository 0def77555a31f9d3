"""Webhook intake rate: signed Stripe events posted through Traefik by wrk, and how fast the worker applies them.

    .venv/bin/python bench/webhook_intake.py [--events 6000] [--users 1500] [--connections 32]
                                             [--plans-seconds 5] [--apply-timeout 600] [--keep-data]

One run starts the whole local stack (journey_local.Stack: PostgreSQL, NATS, every API and worker,
Traefik) in a temporary data dir on free loopback ports, with the gateway's rate limit lifted. The
stack runs billing without Stripe keys, so the webhook secret is the stack's generated development
secret; the script signs with it, exactly as Stripe would.

1. Reference: GET /api/v1/billing/plans (public, cheap) through the same Traefik, wrk with the same
   connections, 1 s warm-up then --plans-seconds: req/s.
2. Intake: N distinct `customer.subscription.created` / `.updated` events (users interleaved, one
   subscription per user, `created` increasing) are built and signed (Stripe-Signature t=...,v1=...)
   just before the load, then wrk (bench/wrk.py run_wrk_prepared) POSTs each exactly once to
   /api/v1/billing/webhooks/stripe: events/s of the 2xx. The signatures' timestamp must stay within
   billing's 300 s tolerance, so the intake is cut off after 240 s (counted as not all sent).
3. Application: the billing worker applies the stored events (outbox -> NATS -> consumer) while and
   after they come in. The script polls billing.stripe_events as the admin role until every event is
   processed (bounded by --apply-timeout): events/s from the start of the intake to the last
   processed_at, the lag from the end of the intake to it, and the CPU per event applied after
   the intake (the worker alone then: the intake's own per-request figure mixes both).
4. Check: N rows stored, each user went free -> plus exactly once (one journey.billing.tier.changed
   row per user in billing.outbox), no error, no dead letter.

wrk, the servers and the worker share the machine's CPUs: the CPU of each (100% = one core) is
printed per phase, and the load average before each measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import stripe

from contracts.billing import TierChanged
from journey_local.stack import Stack

if TYPE_CHECKING:
    import bench.measure as measure
    from bench.wrk import Prepared, WrkResult, require_wrk, run_wrk, run_wrk_prepared
else:
    import measure  # this directory is on sys.path when the script runs
    from wrk import Prepared, WrkResult, require_wrk, run_wrk, run_wrk_prepared

WEBHOOK_PATH = "/api/v1/billing/webhooks/stripe"
PLANS_PATH = "/api/v1/billing/plans"
PRICE = "price_journey_plus_monthly"  # BillingSettings.stripe_price_plus_monthly, seeded for plus_monthly
SIGNATURE_LIFETIME = 240.0  # the intake stops before billing's 300 s tolerance runs out


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


# --- intake ------------------------------------------------------------------------------------


def signed(bodies: list[str], secret: str) -> list[Prepared]:
    """The webhook POSTs, each signed now as Stripe signs (`t=<now>,v1=<HMAC-SHA256>`)."""
    now = int(time.time())
    return [
        Prepared(
            WEBHOOK_PATH,
            body,
            {
                "Content-Type": "application/json",
                "Stripe-Signature": str(stripe.WebhookSignature.generate_signature_header(body, secret, now)),
            },
        )
        for body in bodies
    ]


@dataclass
class Processes:
    pids: dict[str, int]
    postmaster: int | None

    def snapshot(self) -> dict[str, float]:
        """CPU seconds so far (see measure.cpu_seconds), PostgreSQL as the postmaster with its backends."""
        return measure.cpu_seconds(self.pids, trees={"postgres": self.postmaster} if self.postmaster else None)


def measured(procs: Processes, load: Callable[[], WrkResult]) -> tuple[WrkResult, dict[str, float]]:
    """Run `load()` (a wrk run) and return its result with the servers' CPU meanwhile (the Python
    client sits idle in wrk's wait; wrk's own CPU is in the result)."""
    print(f"  {measure.load_line()}", flush=True)
    before, started = procs.snapshot(), time.perf_counter()
    result = load()
    cpu = measure.cpu_percent(before, procs.snapshot(), time.perf_counter() - started)
    cpu.pop("client", None)
    return result, cpu


def cpu_ms(cpu: dict[str, float], name: str, rate: float) -> float:
    """Milliseconds of CPU `name` spent per request at `rate` requests/s."""
    return cpu.get(name, math.nan) * 10 / rate if rate else math.nan


# --- phase 3: application ----------------------------------------------------------------------


@dataclass
class Applied:
    at_start: int  # processed when the wait began (the end of the intake)
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
    at_start = -1
    async with await psycopg.AsyncConnection.connect(admin_dsn, autocommit=True) as conn:
        while True:
            row = await (await conn.execute(APPLY_QUERY)).fetchone()
            assert row is not None
            processed, stored, with_error, last = int(row[0]), int(row[1]), int(row[2]), row[3]
            at_start = processed if at_start < 0 else at_start
            now = time.monotonic()
            if processed >= expected or now - started > max_wait:
                return Applied(at_start, processed, stored, with_error, last, processed >= expected, now - started)
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
    load = {"connections": args.connections, "threads": 2}
    print(f"load: wrk, 2 threads, {args.connections} connections, via Traefik", flush=True)

    print(f"reference: GET {PLANS_PATH}, 1 s warm-up + {args.plans_seconds:g} s", flush=True)
    run_wrk(gateway + PLANS_PATH, seconds=1, **load)
    plans, plans_cpu = measured(procs, lambda: run_wrk(gateway + PLANS_PATH, seconds=args.plans_seconds, **load))
    print(f"plans GET  {plans.line()}", flush=True)
    print(f"           servers' {measure.cpu_line(plans_cpu, unattributed=True)}", flush=True)

    bodies, ids, users = build_events(args.events, args.users)
    requests = signed(bodies, stack.secrets.stripe_webhook_secret)
    print(
        f"intake: {len(bodies)} signed events ({len(users)} users, {len(bodies) / len(users):.1f} events each), "
        f"each POSTed once to {WEBHOOK_PATH}",
        flush=True,
    )
    first_post = time.time()
    intake, intake_cpu = measured(
        procs, lambda: run_wrk_prepared(gateway + WEBHOOK_PATH, requests, max_seconds=SIGNATURE_LIFETIME, **load)
    )
    intake_end = time.time()
    print(f"intake     {intake.line().replace('req/s', 'events/s', 1)}", flush=True)
    print(f"           servers' {measure.cpu_line(intake_cpu, unattributed=True)}", flush=True)

    before = procs.snapshot()
    tail_start = time.perf_counter()
    applied = await wait_applied(stack.admin_dsn, len(ids), args.apply_timeout)
    tail_seconds = time.perf_counter() - tail_start
    tail_cpu = measure.cpu_percent(before, procs.snapshot(), tail_seconds)
    tail_cpu.pop("client", None)
    tail_rate = (applied.processed - applied.at_start) / tail_seconds

    last = applied.last_processed.timestamp() if applied.last_processed else math.nan
    span = last - first_post
    apply_rate = applied.processed / span if span > 0 else math.nan
    lag = max(0.0, last - intake_end)
    counts = await check(stack.admin_dsn)

    print("", flush=True)
    print("=== summary ===", flush=True)
    sent = intake.requests - intake.non2xx
    print(
        f"events: {len(bodies)}; 2xx: {sent}; non-2xx: {intake.non2xx}; socket errors: {intake.socket_errors}; "
        f"stored: {applied.stored}",
        flush=True,
    )
    print(f"intake rate (wrk):      {intake.rps:9.1f} events/s over {intake.seconds:.2f} s", flush=True)
    print(f"plans GET rate (wrk):   {plans.rps:9.1f} req/s    over {plans.seconds:.2f} s", flush=True)
    ratio = intake.rps / plans.rps if plans.rps else math.nan
    print(f"intake / plans-GET ratio: {ratio:.2f}   (target: intake >= 500 events/s)", flush=True)
    print(
        "server CPU per request, intake vs plans GET (ms of one core; other load hardly moves it): "
        + ", ".join(
            f"{name} {cpu_ms(intake_cpu, name, intake.rps):.2f} vs {cpu_ms(plans_cpu, name, plans.rps):.2f}"
            for name in ("billing-api", "traefik", "postgres", "billing-worker")
        ),
        flush=True,
    )
    state = "all applied" if applied.done else f"TIMED OUT after {applied.waited:.0f} s"
    print(
        f"applied: {applied.processed}/{len(ids)} events processed ({state}); rows with an error: {applied.with_error}",
        flush=True,
    )
    print(
        f"application rate:       {apply_rate:9.1f} events/s (start of the intake to the last processed_at, "
        f"{span:.2f} s)",
        flush=True,
    )
    print(f"application lag after intake: {lag:.2f} s", flush=True)
    print(f"after-intake tail servers' {measure.cpu_line(tail_cpu, unattributed=True)}", flush=True)

    def per_applied(*names: str) -> str:
        return ", ".join(f"{name} {cpu_ms(tail_cpu, name, tail_rate):.2f}" for name in names)

    consumers = per_applied(*(f"{s}-worker" for s in ("profiler", "coaching", "missions", "dashboard")))
    print(
        f"server CPU per event applied after the intake ({applied.processed - applied.at_start} events, "
        f"{tail_rate:.1f}/s; ms of one core): {per_applied('billing-worker', 'postgres', 'nats')} "
        f"(tier.changed consumers: {consumers})",
        flush=True,
    )
    print(
        f"tier.changed rows in billing.outbox: {counts['tier_changed']} "
        f"(distinct users: {counts['tier_changed_users']}, published to NATS: {counts['tier_changed_published']}); "
        f"users in the events: {len(users)}; user_tiers at plus: {counts['plus_users']}; "
        f"subscriptions: {counts['subscriptions']}; dead letters: {counts['dead_letters']}",
        flush=True,
    )
    ok = (
        sent == len(bodies)
        and intake.socket_errors == 0
        and applied.stored == len(bodies)
        and applied.done
        and counts["tier_changed"] == len(users)
        and counts["tier_changed_users"] == len(users)
        and counts["plus_users"] == len(users)
        and counts["dead_letters"] == 0
        and counts["event_errors"] == 0
    )
    print(f"check: {'OK' if ok else 'FAILED'} (every event stored and applied once; tier.changed per user)", flush=True)
    return ok


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
    return Processes(pids, measure.postmaster_pid(stack.postgres))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=6_000, help="webhook events to post (default 6000)")
    parser.add_argument("--users", type=int, default=1_500, help="users the events are spread over (default 1500)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--plans-seconds", type=float, default=5.0, help="measured GET /plans window (default 5)")
    parser.add_argument("--apply-timeout", type=float, default=600.0, help="max wait for the worker (default 600 s)")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary data dir (logs) afterwards")
    args = parser.parse_args(argv)
    if min(args.events, args.users) < 1 or args.connections < 2 or args.users > args.events:
        parser.error("--events, --users >= 1, --connections >= 2 (wrk's 2 threads), and --users <= --events")
    if args.plans_seconds < 1 or args.apply_timeout <= 0:
        parser.error("--plans-seconds >= 1, --apply-timeout > 0")
    require_wrk()  # before minutes of stack start-up

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
