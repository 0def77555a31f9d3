from __future__ import annotations

from pathlib import Path

from billing import SCHEMA
from billing.plans.seed import seed_plans
from billing.settings import get_settings
from billing.worker import background, subscriptions
from servicekit.cli import run_cli

run_cli(
    schema=SCHEMA,
    settings_factory=get_settings,
    app_path="billing.main:app",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    subscriptions=subscriptions,
    background=background,
    seed=lambda dsn: print(f"seeded {seed_plans(dsn)} plans"),
    system_role=True,
)
