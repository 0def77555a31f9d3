"""Profiler schema: question bank, sessions, answers, personas, event tables.

Revision ID: 0001
"""

from alembic import op

from servicekit.migrations import create_event_tables, grant_reference_table, protect_user_table

revision = "0001"
down_revision = None

S = "profiler"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE {S}.questions (
            bank_version integer NOT NULL,
            id text NOT NULL,
            position integer NOT NULL,
            category text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('single_choice', 'multiple_choice', 'scale', 'free_text')),
            prompt text NOT NULL,
            required boolean NOT NULL,
            options jsonb,
            max_choices integer,
            scale_min integer,
            scale_max integer,
            scale_labels jsonb,
            max_length integer,
            PRIMARY KEY (bank_version, id)
        )"""
    )
    grant_reference_table(S, "questions")
    op.execute(
        f"""
        CREATE TABLE {S}.sessions (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            bank_version integer NOT NULL,
            status text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'completed')),
            idempotency_key text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            completed_at timestamptz
        )"""
    )
    op.execute(f"CREATE INDEX sessions_user_idx ON {S}.sessions (user_id, created_at DESC)")
    op.execute(
        f"CREATE UNIQUE INDEX sessions_idempotency_idx ON {S}.sessions (user_id, idempotency_key) "
        "WHERE idempotency_key IS NOT NULL"
    )
    op.execute(
        f"""
        CREATE TABLE {S}.answers (
            session_id uuid NOT NULL REFERENCES {S}.sessions (id) ON DELETE CASCADE,
            question_id text NOT NULL,
            user_id uuid NOT NULL,
            value jsonb NOT NULL,
            answered_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (session_id, question_id)
        )"""
    )
    op.execute(f"CREATE INDEX answers_user_idx ON {S}.answers (user_id)")
    op.execute(
        f"""
        CREATE TABLE {S}.personas (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            session_id uuid NOT NULL UNIQUE REFERENCES {S}.sessions (id) ON DELETE CASCADE,
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready')),
            content jsonb,
            provider text,
            fallback boolean NOT NULL DEFAULT false,
            fallback_reason text,
            created_at timestamptz NOT NULL DEFAULT now(),
            generated_at timestamptz
        )"""
    )
    op.execute(f"CREATE INDEX personas_current_idx ON {S}.personas (user_id, generated_at DESC) WHERE status = 'ready'")
    protect_user_table(S, "sessions", app="SELECT, INSERT, UPDATE", worker="SELECT")
    protect_user_table(S, "answers", app="SELECT, INSERT, UPDATE", worker="SELECT")
    protect_user_table(S, "personas", app="SELECT, INSERT", worker="SELECT, UPDATE")
    create_event_tables(S)
