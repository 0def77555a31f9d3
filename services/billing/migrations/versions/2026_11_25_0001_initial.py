"""Billing schema: plans, customers, subscriptions, effective tiers, the Stripe event inbox,
the local payment provider's checkouts and subscriptions, event tables.

Revision ID: 0001
"""

from alembic import op

from servicekit.migrations import create_event_tables, grant_reference_table, protect_user_table, role_names

revision = "0001"
down_revision = None

S = "billing"


def upgrade() -> None:
    roles = role_names(S, system=True)
    op.execute(
        f"""
        CREATE TABLE {S}.plans (
            id text PRIMARY KEY,
            tier text NOT NULL CHECK (tier IN ('free', 'plus', 'pro')),
            name text NOT NULL,
            amount_cents integer NOT NULL,
            currency text NOT NULL,
            interval text CHECK (interval IN ('month', 'year')),
            stripe_price_id text UNIQUE,
            position integer NOT NULL
        )"""
    )
    grant_reference_table(S, "plans")
    op.execute(
        f"""
        CREATE TABLE {S}.customers (
            user_id uuid PRIMARY KEY,
            stripe_customer_id text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        f"""
        CREATE TABLE {S}.subscriptions (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL,
            stripe_subscription_id text NOT NULL UNIQUE,
            stripe_customer_id text NOT NULL,
            plan_id text NOT NULL REFERENCES {S}.plans (id),
            status text NOT NULL CHECK (status IN ('trialing', 'active', 'past_due', 'canceled', 'unpaid',
                                                   'incomplete', 'incomplete_expired', 'paused')),
            current_period_end timestamptz,
            cancel_at_period_end boolean NOT NULL DEFAULT false,
            trial_end timestamptz,
            canceled_at timestamptz,
            past_due_since timestamptz,
            stripe_timestamp bigint NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(f"CREATE INDEX subscriptions_user_idx ON {S}.subscriptions (user_id)")
    op.execute(
        f"CREATE INDEX subscriptions_due_idx ON {S}.subscriptions (current_period_end) "
        "WHERE status IN ('active', 'trialing', 'past_due')"
    )
    op.execute(
        f"""
        CREATE TABLE {S}.user_tiers (
            user_id uuid PRIMARY KEY,
            tier text NOT NULL CHECK (tier IN ('free', 'plus', 'pro')),
            plan_id text,
            reason text NOT NULL,
            changed_at timestamptz NOT NULL
        )"""
    )
    op.execute(
        f"""
        CREATE TABLE {S}.stripe_events (
            id text PRIMARY KEY,
            type text NOT NULL,
            payload jsonb NOT NULL,
            livemode boolean NOT NULL DEFAULT false,
            received_at timestamptz NOT NULL DEFAULT now(),
            processed_at timestamptz,
            error text,
            attempts integer NOT NULL DEFAULT 0
        )"""
    )
    op.execute(
        f"""
        CREATE TABLE {S}.local_checkouts (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            plan_id text NOT NULL REFERENCES {S}.plans (id),
            stripe_customer_id text NOT NULL,
            idempotency_key text NOT NULL,
            status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed')),
            created_at timestamptz NOT NULL DEFAULT now(),
            completed_at timestamptz,
            UNIQUE (user_id, idempotency_key)
        )"""
    )
    op.execute(
        f"""
        CREATE TABLE {S}.local_subscriptions (
            id text PRIMARY KEY,
            user_id uuid NOT NULL,
            object jsonb NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    protect_user_table(S, "customers", app="SELECT, INSERT", worker="SELECT, INSERT")
    protect_user_table(S, "subscriptions", app="SELECT, INSERT, UPDATE", worker="SELECT, INSERT, UPDATE")
    protect_user_table(S, "user_tiers", app="SELECT, INSERT, UPDATE", worker="SELECT, INSERT, UPDATE")
    protect_user_table(S, "local_checkouts", app="SELECT, INSERT, UPDATE", worker="SELECT")
    protect_user_table(S, "local_subscriptions", app="SELECT, INSERT, UPDATE", worker="SELECT, INSERT, UPDATE")
    # The webhook stores events before anyone knows whose they are; the worker applies them.
    op.execute(f'GRANT SELECT, INSERT ON {S}.stripe_events TO "{roles["app"]}"')
    op.execute(f'GRANT SELECT, UPDATE ON {S}.stripe_events TO "{roles["worker"]}"')
    # The period-end / grace-period check must find due subscriptions across users: the
    # system role gets exactly that, through its own policy, and nothing else.
    op.execute(
        f"GRANT SELECT (user_id, status, current_period_end, cancel_at_period_end, past_due_since) "
        f'ON {S}.subscriptions TO "{roles["system"]}"'
    )
    op.execute(
        f'CREATE POLICY subscriptions_due_scan ON {S}.subscriptions FOR SELECT TO "{roles["system"]}" USING (true)'
    )
    create_event_tables(S)
