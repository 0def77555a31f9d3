"""Who owns a customer or subscription id, for events that arrive without a user.

Invoices, and subscription events whose metadata names no user, reach the worker with subject
`system`: under RLS it sees none of the rows that would tell it the user. These two functions
are the one narrow path across users: SECURITY DEFINER, returning only a user id for an exact
id, executable by the worker role alone. The worker then continues under that user's RLS.

The owner is subject to RLS too (FORCE), so it gets a read-only policy on exactly the three
tables the functions read. It is NOLOGIN and already owns these tables.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"

S = "billing"


def upgrade() -> None:
    for table in ("customers", "subscriptions", "local_subscriptions"):
        op.execute(f'CREATE POLICY {table}_owner_lookup ON {S}.{table} FOR SELECT TO "billing_owner" USING (true)')
    op.execute(
        f"""
        CREATE FUNCTION {S}.owner_of_customer(customer_id text) RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT user_id FROM {S}.customers WHERE stripe_customer_id = customer_id $$"""
    )
    op.execute(
        f"""
        CREATE FUNCTION {S}.owner_of_subscription(subscription_id text) RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
            SELECT user_id FROM {S}.subscriptions WHERE stripe_subscription_id = subscription_id
            UNION ALL
            SELECT user_id FROM {S}.local_subscriptions WHERE id = subscription_id
            LIMIT 1
        $$"""
    )
    for function in ("owner_of_customer(text)", "owner_of_subscription(text)"):
        op.execute(f"REVOKE ALL ON FUNCTION {S}.{function} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {S}.{function} TO "billing_worker"')
