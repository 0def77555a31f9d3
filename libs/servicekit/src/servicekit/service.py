"""A service declares itself once; its app, worker, CLI, seeds, test fixtures, the local
launcher and the gateway's routes are all derived from that declaration.

    service = ServiceDefinition(
        name="coaching",                  # also the schema, the stream and the URL prefix
        settings_class=CoachingSettings,
        routers=lambda settings: [habits_router, goals_router],
        subscriptions=worker.subscriptions,
        migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
        default_port=8102,
    )

Services publish it under the `journey.services` entry point group, which is how the
launcher, `make` and the test harness find every service without a hand-kept list."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Generic, TypeVar

import psycopg
from fastapi import APIRouter, FastAPI
from psycopg import sql

from servicekit import migrations
from servicekit.db import libpq_url
from servicekit.events.consumer import Subscription
from servicekit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)
BackgroundJob = Callable[[], Coroutine[Any, Any, None]]
# Reference data loaded by `python -m <svc> seed`: runs as the schema's owner role, returns a summary.
Seed = Callable[[psycopg.Connection[Any], S], str]
Lifespan = Callable[[FastAPI, S], AbstractAsyncContextManager[None]]


@dataclass(frozen=True)
class Command(Generic[S]):
    """An extra `python -m <svc> <name>` command (e.g. the dashboard's `rebuild`): runs with the
    service's settings from the environment and returns the process's exit status."""

    help: str
    run: Callable[[S], int]


ENTRY_POINT_GROUP = "journey.services"


def _nothing(_settings: Any) -> Sequence[Any]:
    return ()


@dataclass(frozen=True)
class ServiceDefinition(Generic[S]):
    """Everything the kit needs to run, test and route one service."""

    name: str
    settings_class: type[S]
    routers: Callable[[S], Sequence[APIRouter]]
    migrations_dir: Path
    default_port: int
    subscriptions: Callable[[S], Sequence[Subscription]] = _nothing
    background: Callable[[S], Sequence[BackgroundJob]] = _nothing  # long-running and scheduled jobs
    seed: Seed[S] | None = None
    lifespan: Lifespan[S] | None = None  # per-process resources of the API (caches, SSE hubs)
    # Paths under /api/v1/<name> served without a bearer token (everything else requires one).
    public_paths: tuple[str, ...] = ()
    system_role: bool = False  # a `<name>_system` role for jobs that must cross users
    # Paths under /api/v1/<name> that stream their answer (Server-Sent Events) or their request
    # (an upload the route caps itself as it reads): the gateway routes them without its buffering
    # middleware, which would hold the stream back (and answer 413 in the route's place).
    # `{param}` stands for one path segment.
    streaming_paths: tuple[str, ...] = ()
    # Paths whose own 429 (a per-user limit with its exact Retry-After) must reach the client: the
    # gateway replaces every 429 on its other routes with its rate-limit problem page (Traefik's
    # errors middleware cannot tell whose 429 it is), so these get a route that leaves 429 alone.
    own_429_paths: tuple[str, ...] = ()
    commands: dict[str, Command[S]] = field(default_factory=dict, compare=False)
    version: str = "0.1.0"
    description: str = field(default="", compare=False)

    @property
    def schema(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return f"/api/v1/{self.name}"

    def settings(self, **overrides: Any) -> S:
        """This service's settings from the environment, with `overrides` on top."""
        return self.settings_class(**{"service_name": self.name, **overrides})

    def app(self, settings: S | None = None) -> FastAPI:
        from servicekit.app import create_app  # the app pulls in FastAPI's whole stack: only when asked

        settings = settings or self.settings()
        lifespan = None
        if self.lifespan is not None:
            hook = self.lifespan
            bound = settings

            def lifespan(app: FastAPI) -> AbstractAsyncContextManager[None]:
                return hook(app, bound)

        return create_app(settings, self.routers(settings), version=self.version, lifespan=lifespan)

    def run_seed(self, admin_dsn: str, settings: S | None = None) -> str | None:
        """Load the reference data as the schema's owner (idempotent); None when there is none."""
        if self.seed is None:
            return None
        owner = migrations.role_names(self.schema)["owner"]
        with migrations.schema_lock(admin_dsn, self.schema), psycopg.connect(libpq_url(admin_dsn)) as conn:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(owner)))
            return self.seed(conn, settings or self.settings())

    def migrate(self, admin_dsn: str, env: Mapping[str, str] | None = None) -> None:
        """Schema to head; each login role's password comes from the URL in `env` it connects with."""
        passwords = migrations.role_passwords(self.schema, env or {}, system=self.system_role)
        migrations.upgrade(
            admin_dsn, self.schema, self.migrations_dir, system_role=self.system_role, passwords=passwords
        )

    def cli(self, argv: Sequence[str] | None = None) -> None:
        """`python -m <name> {api,worker,migrate,seed}`."""
        parser = argparse.ArgumentParser(prog=self.name)
        sub = parser.add_subparsers(dest="command", required=True)
        api = sub.add_parser("api", help="serve the HTTP API")
        api.add_argument("--host", default="127.0.0.1")
        api.add_argument("--port", type=int, default=self.default_port)
        sub.add_parser("worker", help="run the outbox relay, consumers and background jobs")
        sub.add_parser("migrate", help="create roles and bring the schema to head (ADMIN_DATABASE_URL)")
        sub.add_parser("seed", help="load reference data (ADMIN_DATABASE_URL)")
        for name, command in self.commands.items():
            sub.add_parser(name, help=command.help)
        args = parser.parse_args(argv)

        if args.command in self.commands:
            raise SystemExit(self.commands[args.command].run(self.settings()))
        if args.command == "api":
            from servicekit.observability import observe_process

            settings = self.settings()
            observe_process(settings, worker=False)
            serve(self.app(settings), host=args.host, port=args.port)
        elif args.command == "worker":
            from servicekit.worker import run_worker

            settings = self.settings()
            run_worker(settings, self.schema, self.subscriptions(settings), self.background(settings))
        else:
            admin_dsn = os.environ.get("ADMIN_DATABASE_URL")
            if not admin_dsn:
                parser.error(f"{args.command} needs ADMIN_DATABASE_URL (a role that may create roles and schemas)")
            if args.command == "migrate":
                self.migrate(admin_dsn, os.environ)
            else:
                print(self.run_seed(admin_dsn) or "nothing to seed")


def serve(app: FastAPI, *, host: str, port: int) -> None:
    """uvicorn, telling the app when shutdown begins (`app.state.draining` is set) so open
    streams can end cleanly: uvicorn waits for them before the lifespan's exit would run."""
    import uvicorn

    class DrainingServer(uvicorn.Server):
        async def shutdown(self, sockets: list[Any] | None = None) -> None:
            app.state.draining.set()
            await super().shutdown(sockets)

    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    DrainingServer(config).run()


def discover() -> list[ServiceDefinition[Any]]:
    """Every installed service, ordered by its default port (the launcher's start order)."""
    found = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        definition = point.load()
        if not isinstance(definition, ServiceDefinition):
            raise TypeError(f"entry point {point.name} is not a ServiceDefinition")
        if definition.name != point.name:
            raise ValueError(f"entry point {point.name} names service {definition.name}")
        found.append(definition)
    return sorted(found, key=lambda d: d.default_port)
