"""`python -m <service> {api,worker,migrate,seed}`: one entry point shape for every service."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from servicekit import migrations
from servicekit.events.consumer import Subscription
from servicekit.settings import ServiceSettings
from servicekit.worker import run_worker

S = TypeVar("S", bound=ServiceSettings)
BackgroundJob = Callable[[], Coroutine[Any, Any, None]]


def run_cli(
    *,
    schema: str,
    settings_factory: Callable[[], S],
    app_path: str,
    migrations_dir: Path,
    subscriptions: Callable[[S], Sequence[Subscription]],
    background: Callable[[S], Sequence[BackgroundJob]] | None = None,
    seed: Callable[[str], None] | None = None,
    system_role: bool = False,
    argv: Sequence[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=schema)
    sub = parser.add_subparsers(dest="command", required=True)
    api = sub.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    sub.add_parser("worker", help="run the outbox relay and consumers")
    sub.add_parser("migrate", help="create roles and bring the schema to head (ADMIN_DATABASE_URL)")
    sub.add_parser("seed", help="load reference data (ADMIN_DATABASE_URL)")
    args = parser.parse_args(argv)

    if args.command == "api":
        uvicorn.run(app_path, factory=True, host=args.host, port=args.port, log_config=None, access_log=False)
    elif args.command == "worker":
        settings = settings_factory()
        run_worker(settings, schema, subscriptions(settings), background(settings) if background else ())
    else:
        admin_dsn = os.environ.get("ADMIN_DATABASE_URL")
        if not admin_dsn:
            parser.error(f"{args.command} needs ADMIN_DATABASE_URL (a role that may create roles and schemas)")
        if args.command == "migrate":
            migrations.upgrade(admin_dsn, schema, migrations_dir, system_role=system_role)
        elif seed is not None:
            seed(admin_dsn)
