from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from billing import SCHEMA
from billing.plans.seed import seed_plans
from billing.settings import BillingSettings, get_settings
from billing.worker import background, subscriptions
from servicekit.cli import run_cli
from servicekit.events.consumer import Subscription
from servicekit.settings import ServiceSettings


def _subscriptions(settings: ServiceSettings) -> Sequence[Subscription]:
    assert isinstance(settings, BillingSettings)
    return subscriptions(settings)


def _background(settings: ServiceSettings) -> Sequence[Callable[[], Coroutine[Any, Any, None]]]:
    assert isinstance(settings, BillingSettings)
    return background(settings)


run_cli(
    schema=SCHEMA,
    settings_factory=get_settings,
    app_path="billing.main:app",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    subscriptions=_subscriptions,
    background=_background,
    seed=lambda dsn: print(f"seeded {seed_plans(dsn)} plans"),
    system_role=True,
)
