"""Coaching schema: profiles, habits and their check-ins, goals, reflections, persona
suggestions; event, idempotency and tier-cache tables.

Revision ID: 0001
"""

from alembic import op

from entitlements.tier_cache import create_tier_cache_table
from servicekit.migrations import create_event_tables, create_idempotency_table, protect_user_table

revision = "0001"
down_revision = None

S = "coaching"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE {S}.profiles (
            user_id uuid PRIMARY KEY,
            time_zone text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        f"""
        CREATE TABLE {S}.goals (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            title text NOT NULL,
            why text,
            kind text NOT NULL CHECK (kind IN ('target', 'checklist')),
            target_value double precision,
            unit text,
            start_value double precision NOT NULL DEFAULT 0,
            manual_value double precision NOT NULL DEFAULT 0,
            progress_from_habits boolean NOT NULL DEFAULT false,
            milestones jsonb,
            start_date date NOT NULL,
            deadline date,
            status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'achieved', 'abandoned')),
            achieved_at timestamptz,
            abandoned_at timestamptz,
            suggestion_id uuid,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (id, user_id),
            CHECK ((kind = 'target') = (target_value IS NOT NULL)),
            CHECK ((kind = 'checklist') = (milestones IS NOT NULL))
        )"""
    )
    op.execute(f"CREATE INDEX goals_user_idx ON {S}.goals (user_id, created_at DESC, id DESC)")
    op.execute(
        f"""
        CREATE TABLE {S}.habits (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            name text NOT NULL,
            description text,
            kind text NOT NULL CHECK (kind IN ('boolean', 'measurable')),
            unit text,
            target double precision CHECK (target > 0),
            schedule_kind text NOT NULL CHECK (schedule_kind IN ('daily', 'weekly', 'monthly', 'weekdays')),
            schedule_times integer CHECK (schedule_times BETWEEN 1 AND 31),
            schedule_weekdays integer[],
            start_date date NOT NULL,
            reminder_time time,
            colour text,
            icon text,
            archived boolean NOT NULL DEFAULT false,
            archived_at timestamptz,
            goal_id uuid REFERENCES {S}.goals (id) ON DELETE SET NULL,
            suggestion_id uuid,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (id, user_id),
            CHECK ((kind = 'measurable') = (target IS NOT NULL))
        )"""
    )
    op.execute(f"CREATE INDEX habits_user_idx ON {S}.habits (user_id, created_at DESC, id DESC)")
    op.execute(f"CREATE INDEX habits_active_idx ON {S}.habits (user_id) WHERE NOT archived")
    op.execute(f"CREATE INDEX habits_goal_idx ON {S}.habits (goal_id) WHERE goal_id IS NOT NULL")
    # A check-in belongs to its habit's owner (the composite key), and goes with the habit.
    op.execute(
        f"""
        CREATE TABLE {S}.habit_logs (
            habit_id uuid NOT NULL,
            local_date date NOT NULL,
            user_id uuid NOT NULL,
            value double precision NOT NULL CHECK (value > 0),
            note text,
            logged_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (habit_id, local_date),
            FOREIGN KEY (habit_id, user_id) REFERENCES {S}.habits (id, user_id) ON DELETE CASCADE
        )"""
    )
    op.execute(
        f"""
        CREATE TABLE {S}.reflections (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            text text NOT NULL,
            mood integer CHECK (mood BETWEEN 1 AND 5),
            prompt_id text,
            habit_id uuid REFERENCES {S}.habits (id) ON DELETE SET NULL,
            goal_id uuid REFERENCES {S}.goals (id) ON DELETE SET NULL,
            local_date date NOT NULL,
            sentiment_status text NOT NULL DEFAULT 'pending' CHECK (sentiment_status IN ('pending', 'scored')),
            sentiment_label text CHECK (sentiment_label IN ('positive', 'neutral', 'negative')),
            sentiment_score double precision CHECK (sentiment_score BETWEEN -1 AND 1),
            themes jsonb,
            supportive_sentence text,
            provider text,
            fallback boolean NOT NULL DEFAULT false,
            fallback_reason text,
            scored_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )"""
    )
    op.execute(f"CREATE INDEX reflections_user_idx ON {S}.reflections (user_id, created_at DESC, id DESC)")
    op.execute(f"CREATE INDEX reflections_day_idx ON {S}.reflections (user_id, local_date)")
    op.execute(
        f"""
        CREATE TABLE {S}.suggestions (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            persona_id uuid NOT NULL,
            persona_name text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('goal', 'habit')),
            text text NOT NULL,
            position integer NOT NULL,
            status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'adopted', 'superseded')),
            adopted_id uuid,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            UNIQUE (persona_id, kind, position)
        )"""
    )
    op.execute(f"CREATE INDEX suggestions_open_idx ON {S}.suggestions (user_id) WHERE status = 'open'")
    protect_user_table(S, "profiles", app="SELECT, INSERT, UPDATE", worker="SELECT")
    # Students delete their own habits, check-ins and goals (decision 30).
    protect_user_table(S, "goals", worker="SELECT")
    protect_user_table(S, "habits", worker="SELECT")
    protect_user_table(S, "habit_logs", worker="SELECT")
    protect_user_table(S, "reflections", app="SELECT, INSERT", worker="SELECT, UPDATE")
    protect_user_table(S, "suggestions", app="SELECT, UPDATE", worker="SELECT, INSERT, UPDATE")
    create_event_tables(S)
    create_idempotency_table(S)
    create_tier_cache_table(S)
