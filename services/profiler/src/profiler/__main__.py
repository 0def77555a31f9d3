from __future__ import annotations

from pathlib import Path

from profiler import SCHEMA
from profiler.questions.seed import seed_questions
from profiler.settings import get_settings
from profiler.worker import subscriptions
from servicekit.cli import run_cli

run_cli(
    schema=SCHEMA,
    settings_factory=get_settings,
    app_path="profiler.main:app",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    subscriptions=subscriptions,
    seed=lambda dsn: print(f"seeded {seed_questions(dsn)} questions"),
)
