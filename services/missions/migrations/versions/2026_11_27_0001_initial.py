"""Missions schema: the versioned catalogue, enrollments, submissions and their files, the
persona facts recommendations read, idempotency keys, the tier cache and the event tables.

Revision ID: 0001
"""

from alembic import op

from entitlements.tier_cache import create_tier_cache_table
from servicekit.migrations import (
    create_event_tables,
    create_idempotency_table,
    grant_reference_table,
    protect_user_table,
)

revision = "0001"
down_revision = None

S = "missions"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE {S}.missions (
            id text NOT NULL,
            version integer NOT NULL CHECK (version >= 1),
            title text NOT NULL,
            brief text NOT NULL,
            steps jsonb NOT NULL,
            difficulty integer NOT NULL CHECK (difficulty BETWEEN 1 AND 5),
            estimated_minutes integer NOT NULL CHECK (estimated_minutes > 0),
            skill text NOT NULL,
            tags jsonb NOT NULL,
            traits jsonb NOT NULL,
            deliverables jsonb NOT NULL,
            min_words integer NOT NULL,
            rubric jsonb NOT NULL,
            published_at timestamptz NOT NULL DEFAULT now(),
            retired_at timestamptz,
            PRIMARY KEY (id, version)
        )"""
    )
    # One live version per mission at most.
    op.execute(f"CREATE UNIQUE INDEX missions_live_idx ON {S}.missions (id) WHERE retired_at IS NULL")
    op.execute(f"CREATE INDEX missions_tags_idx ON {S}.missions USING gin (tags)")
    grant_reference_table(S, "missions")

    op.execute(
        f"""
        CREATE TABLE {S}.enrollments (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            mission_id text NOT NULL,
            mission_version integer NOT NULL,
            status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'closed')),
            submissions_count integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            ended_at timestamptz,
            FOREIGN KEY (mission_id, mission_version) REFERENCES {S}.missions (id, version)
        )"""
    )
    op.execute(f"CREATE INDEX enrollments_user_idx ON {S}.enrollments (user_id, created_at DESC)")
    # A mission is in progress at most once per user.
    op.execute(
        f"CREATE UNIQUE INDEX enrollments_one_active_idx ON {S}.enrollments (user_id, mission_id) "
        "WHERE status = 'active'"
    )

    op.execute(
        f"""
        CREATE TABLE {S}.submissions (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            enrollment_id uuid NOT NULL REFERENCES {S}.enrollments (id) ON DELETE CASCADE,
            attempt integer NOT NULL CHECK (attempt >= 1),
            text text NOT NULL,
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'scored')),
            overall_score double precision,
            verdict text CHECK (verdict IN ('pass', 'resubmit')),
            review jsonb,
            provider text,
            fallback boolean NOT NULL DEFAULT false,
            fallback_reason text,
            created_at timestamptz NOT NULL DEFAULT now(),
            reviewed_at timestamptz,
            UNIQUE (enrollment_id, attempt)
        )"""
    )
    op.execute(f"CREATE INDEX submissions_user_idx ON {S}.submissions (user_id, created_at DESC)")

    op.execute(
        f"""
        CREATE TABLE {S}.submission_files (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            submission_id uuid NOT NULL REFERENCES {S}.submissions (id) ON DELETE CASCADE,
            position integer NOT NULL,
            filename text NOT NULL,
            content_type text NOT NULL CHECK (content_type IN
                ('application/pdf', 'image/png', 'image/jpeg', 'text/plain')),
            size_bytes bigint NOT NULL CHECK (size_bytes > 0),
            sha256 text NOT NULL,
            storage_key text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (submission_id, position)
        )"""
    )
    op.execute(f"CREATE INDEX submission_files_user_idx ON {S}.submission_files (user_id)")

    op.execute(
        f"""
        CREATE TABLE {S}.persona_facts (
            user_id uuid PRIMARY KEY,
            persona_id uuid NOT NULL,
            name text NOT NULL,
            mission_tags jsonb NOT NULL,
            suggested_goals jsonb NOT NULL,
            generated_at timestamptz NOT NULL,
            event_id uuid NOT NULL
        )"""
    )

    protect_user_table(S, "enrollments", app="SELECT, INSERT, UPDATE", worker="SELECT, UPDATE")
    protect_user_table(S, "submissions", app="SELECT, INSERT", worker="SELECT, UPDATE")
    protect_user_table(S, "submission_files", app="SELECT, INSERT", worker="SELECT")
    protect_user_table(S, "persona_facts", app="SELECT", worker="SELECT, INSERT, UPDATE")
    create_idempotency_table(S)
    create_tier_cache_table(S)
    create_event_tables(S)
